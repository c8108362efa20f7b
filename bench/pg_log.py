"""Delivery-log query latency at ~1M events on PostgreSQL (the SQLite figures are bench.log_query).

Seeding runs inside PostgreSQL (INSERT … SELECT generate_series), with the same shape as
bench.log_query: 9 hamlets × 10 speakers, a year of broadcasts to 1-3 hamlets each,
five events per delivery, ~7 % of deliveries not played. The timed queries are the
same delivery_log.search filters.

Run: .venv/bin/python -m bench.pg_log [--events 1000000] [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench import pg
from bench.common import replace_section, table

SEED_SQL = [
    "INSERT INTO audio_assets (sha256, bytes, duration_ms, source, engine, created_at)"
    " VALUES ('a', 1, 60000, 'tts', 'espeak', '2026-01-01Z')",
    "INSERT INTO announcements (id, title, text, audio_sha256, engine, status, created_at, updated_at)"
    " VALUES (1, 'gtts', 'x', 'a', 'gtts', 'approved', '2026-01-01Z', '2026-01-01Z'),"
    " (2, 'espeak', 'x', 'a', 'espeak', 'approved', '2026-01-01Z', '2026-01-01Z')",
    "INSERT INTO hamlets (id, name, created_at) SELECT h, 'Ấp ' || h, '2026-01-01Z'"
    " FROM generate_series(1, 9) h",
    "INSERT INTO speakers (id, hamlet_id, online, created_at) SELECT 'spk-' || h || '-' || k, h,"
    " false, '2026-01-01Z' FROM generate_series(1, 9) h, generate_series(0, 9) k",
    # Each broadcast airs on nh consecutive hamlets from h0: 1-3 hamlets, 20 deliveries average.
    "CREATE TEMP TABLE plan AS SELECT b AS id, 1 + floor(random() * 9)::int AS h0,"
    " 1 + floor(random() * 3)::int AS nh, timestamptz '2026-01-01Z' + random() * interval '365 days'"
    " AS at FROM generate_series(1, :broadcasts) b",
    "INSERT INTO broadcasts (id, announcement_id, priority, emergency_override, play_at, dispatch_at,"
    " expires_at, created_at) SELECT id, 1 + id % 2, (ARRAY['normal','normal','priority','emergency'])"
    "[1 + floor(random() * 4)::int], false, at, at, at + interval '15 minutes', at FROM plan",
    "INSERT INTO deliveries (broadcast_id, speaker_id, command_id, state, state_at, sends, agent_seen)"
    " SELECT p.id, 'spk-' || (1 + (p.h0 + hh - 1) % 9) || '-' || k, 'c' || p.id || '-' || hh || '-' || k,"
    " CASE WHEN random() < 0.93 THEN 'played' ELSE (ARRAY['failed','unconfirmed','missed'])"
    "[1 + floor(random() * 3)::int] END, p.at, 1, true"
    " FROM plan p, generate_series(0, 2) hh, generate_series(0, 9) k WHERE hh < p.nh",
    "INSERT INTO delivery_events (delivery_id, event, source, at, recorded_at, detail)"
    " SELECT d.id, CASE n WHEN 0 THEN 'queued' WHEN 1 THEN 'sent' WHEN 2 THEN 'received'"
    " WHEN 3 THEN 'downloaded' ELSE d.state END, CASE WHEN n > 1 THEN 'agent' ELSE 'controller' END,"
    " d.state_at + n * interval '1 second', d.state_at + n * interval '1 second',"
    " CASE WHEN n = 4 AND d.state <> 'played' THEN 'no answer' END"
    " FROM deliveries d, generate_series(0, 4) n",
    "ANALYZE",
]


def cases():
    """The filters timed, as bench.log_query times them on SQLite."""
    from controller.services.delivery_log import LogFilter

    month = {"date_from": date(2026, 6, 1), "date_to": date(2026, 6, 30), "hamlet_id": 3,
             "state": "played"}
    return {
        "1 month, 1 hamlet, state=played, page 1": (LogFilter(**month), 1),
        "1 month, 1 hamlet, state=played, page 20": (LogFilter(**month), 20),
        "whole year, state=failed, priority=emergency, page 1": (
            LogFilter(state="failed", priority="emergency"), 1),
        "1 week, engine=gtts, page 1": (
            LogFilter(date_from=date(2026, 9, 7), date_to=date(2026, 9, 13), engine="gtts"), 1),
        "no filter, page 1": (LogFilter(), 1),
        "one speaker, whole year, page 1": (LogFilter(speaker_id="spk-5-3"), 1),
    }


def main(argv: list[str] | None = None) -> list:
    """Seed, time each query, print, and (unless --no-write) write the section."""
    from controller.db import Database
    from controller.migrate import upgrade
    from controller.services import delivery_log

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    url = pg.fresh_schema_url()
    if url is None:
        print("PostgreSQL: skipped, nothing answers on 127.0.0.1:5432")
        return []
    db = Database(url)
    try:
        upgrade(db)
        t0 = time.perf_counter()
        with db.engine.begin() as c:
            for sql in SEED_SQL:
                c.execute(sa.text(sql), {"broadcasts": max(1, args.events // 100)})
        seed_s = time.perf_counter() - t0
        with db.engine.connect() as c:
            n = c.execute(sa.text("SELECT count(*) FROM delivery_events")).scalar()
            version = c.execute(sa.text("SHOW server_version")).scalar()
        tz = ZoneInfo("Asia/Ho_Chi_Minh")
        rows = []
        for name, (f, page) in cases().items():
            with db.session() as s:
                found = len(delivery_log.search(s, f, tz, page).rows)  # warm
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    delivery_log.search(s, f, tz, page)
                    times.append((time.perf_counter() - t) * 1000)
            rows.append([name, found, f"{statistics.median(times):.1f}",
                         f"{min(times):.1f}–{max(times):.1f}"])
    finally:
        db.dispose()
        pg.drop_schema()
    body = (f"`python -m bench.pg_log`: {n:,} delivery events seeded inside PostgreSQL "
            f"{version} in {seed_s:.0f} s (same shape as `bench.log_query`: 90 speakers in 9 "
            f"hamlets, a year of broadcasts, five events per delivery), in a private schema of "
            f"the `test` database; `delivery_log.search` timed {args.runs} times per filter "
            f"after one warm-up.\n\n"
            + table(["query", "rows", "median ms", "min–max ms"], rows))
    print(body, flush=True)
    if not args.no_write:
        replace_section("Delivery-log query on PostgreSQL", body)
    return rows


if __name__ == "__main__":
    main()
