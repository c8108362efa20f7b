"""Helpers for controller tests: a database URL per test and a Controller without messaging."""

from __future__ import annotations

import os

import sqlalchemy as sa

PG_ENV = "COMMUNE_RADIO_TEST_DB"
CALLS = 0  # counted by tests/support/db_free.py, which tells which tests use a database


def fresh_db_url(tmp_path) -> str:
    """SQLite in tmp_path, or the PostgreSQL named by COMMUNE_RADIO_TEST_DB, emptied first."""
    global CALLS
    CALLS += 1
    url = os.environ.get(PG_ENV)
    if not url:
        return f"sqlite:///{tmp_path / 'controller.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url
