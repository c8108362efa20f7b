"""PostgreSQL for benches: a private schema in the `test` database, never anything else."""

from __future__ import annotations

import os

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_commune_radio"


def base_url() -> str:
    """The server/database to use (COMMUNE_RADIO_BENCH_PG overrides; loopback only)."""
    url = os.environ.get("COMMUNE_RADIO_BENCH_PG", DEFAULT_URL)
    if "@127.0.0.1" not in url and "@localhost" not in url:
        raise ValueError("bench PostgreSQL must be on loopback")
    return url


def fresh_schema_url(schema: str = SCHEMA) -> str | None:
    """Drop and recreate our own schema; return a URL whose search_path is that schema.

    None when no PostgreSQL answers (the bench then skips its PostgreSQL rows). The tests
    empty the `public` schema of the same database, so the bench never uses `public`.
    """
    url = base_url()
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def drop_schema(schema: str = SCHEMA) -> None:
    """Remove the bench schema again."""
    engine = sa.create_engine(base_url())
    with engine.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
