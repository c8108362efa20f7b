"""Pytest plugin: the PostgreSQL pass skips the tests that never opened a database.

The suite runs twice (scripts/test-all.sh): on SQLite, then on PostgreSQL. The second pass
exists for the database layer, so a test that never asked for a database
(`tests.support.controller.fresh_db_url`, directly or through any fixture) would only run the
same code again. The SQLite pass writes the ids of the tests that passed without touching a
database to the file named by COMMUNE_RADIO_DB_FREE_OUT; the PostgreSQL pass reads the file
named by COMMUNE_RADIO_DB_FREE_IN and leaves those out. With neither variable set (a plain
`pytest`), nothing changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import controller as db_support

OUT_ENV, IN_ENV = "COMMUNE_RADIO_DB_FREE_OUT", "COMMUNE_RADIO_DB_FREE_IN"
_db_fixtures: set[str] = set()  # fixtures whose setup asked for a database
_db_free: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Remember which fixtures ask for a database (session fixtures ask only once)."""
    before = db_support.CALLS
    yield
    if before != db_support.CALLS:
        _db_fixtures.add(fixturedef.argname)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's outcome on the test item."""
    outcome = yield
    item.__dict__.setdefault("_db_free_outcomes", []).append(outcome.get_result().passed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Record a test as database-free when it passed and nothing in it asked for a database."""
    before = db_support.CALLS
    yield
    outcomes = item.__dict__.get("_db_free_outcomes", [])
    touched = before != db_support.CALLS or _db_fixtures.intersection(item.fixturenames)
    if not touched and len(outcomes) == 3 and all(outcomes):
        _db_free.append(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """Write the database-free test ids for the PostgreSQL pass."""
    out = os.environ.get(OUT_ENV)
    if out:
        Path(out).write_text("\n".join(_db_free) + "\n", encoding="utf-8")


def pytest_collection_modifyitems(config, items):
    """In the PostgreSQL pass, leave out what the SQLite pass found database-free."""
    src = os.environ.get(IN_ENV)
    if not src or not Path(src).is_file():
        return
    free = set(Path(src).read_text(encoding="utf-8").splitlines())
    keep = [i for i in items if i.nodeid not in free]
    dropped = [i for i in items if i.nodeid in free]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
