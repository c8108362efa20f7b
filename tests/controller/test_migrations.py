"""Migrations and models agree, on SQLite and (in the PostgreSQL run) on PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import controller.alerts.models  # noqa: F401 - its tables are part of the schema
import controller.province.models  # noqa: F401 - its tables are part of the schema
import controller.relay_models  # noqa: F401 - its tables are part of the schema
import controller.stream_models  # noqa: F401 - its tables are part of the schema
import controller.update_models  # noqa: F401 - its tables are part of the schema
import controller.web_models  # noqa: F401 - its tables are part of the schema
from controller.db import Database
from controller.migrate import alembic_config, upgrade
from controller.models import Base
from tests.support.controller import fresh_db_url


def test_upgrade_leaves_no_drift_and_downgrade_round_trips(tmp_path):
    db = Database(fresh_db_url(tmp_path))
    upgrade(db)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    upgrade(db)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    db.dispose()
