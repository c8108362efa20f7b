#!/usr/bin/env bash
# The whole suite: once on SQLite, then again on PostgreSQL when one is reachable.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
status=0
# The SQLite pass lists the tests that never opened a database; the PostgreSQL pass,
# which is there for the database layer, leaves them out (tests/support/db_free.py).
DB_FREE=$(mktemp)
trap 'rm -f "$DB_FREE"' EXIT
echo "=== test suite on SQLite ==="
COMMUNE_RADIO_DB_FREE_OUT="$DB_FREE" $PY -m pytest -q --durations=25 "$@" || status=$?
PG_URL=${COMMUNE_RADIO_TEST_PG:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if $PY - "$PG_URL" <<'PYEOF'
import sys
import sqlalchemy as sa
try:
    sa.create_engine(sys.argv[1]).connect().close()
except Exception as exc:
    print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping the PostgreSQL run")
    sys.exit(1)
PYEOF
then
  echo "=== test suite on PostgreSQL ==="
  COMMUNE_RADIO_DB_FREE_IN="$DB_FREE" COMMUNE_RADIO_TEST_DB="$PG_URL" $PY -m pytest -q --durations=25 -m "not browser" "$@" || status=$?
fi
exit $status
