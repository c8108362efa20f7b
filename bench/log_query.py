"""Delivery-log query speed: seed 1,000,000 delivery events into SQLite, time a filtered page.

    .venv/bin/python -m bench.log_query            # --events N, --runs N, --db PATH

The data looks like a busy commune over a year: 9 hamlets × 10 speakers, broadcasts to a
few hamlets each, five events per delivery (queued, sent, received, downloaded, played/failed).
The timed query is what a staff member runs most: one month, one hamlet, one state,
newest first, page 1 and page 20, plus the per-page reasons lookup (delivery_log.search).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from controller.db import Database
from controller.migrate import upgrade

EVENTS_PER_DELIVERY = 5
SPEAKERS_PER_HAMLET = 10
HAMLETS = 9


def seed(db: Database, events: int, rng: random.Random) -> None:
    """Insert hamlets, speakers, one announcement, broadcasts, deliveries and events in bulk."""
    deliveries = events // EVENTS_PER_DELIVERY
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with db.engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO audio_assets (sha256, bytes, duration_ms, source, engine, created_at) "
                "VALUES ('a', 1, 60000, 'tts', 'espeak', :t)"
            ),
            {"t": start},
        )
        for engine in ("gtts", "espeak"):
            c.execute(
                sa.text(
                    "INSERT INTO announcements (title, text, audio_sha256, engine, status, created_at,"
                    " updated_at) VALUES (:e, 'x', 'a', :e, 'approved', :t, :t)"
                ),
                {"e": engine, "t": start},
            )
        c.execute(
            sa.text("INSERT INTO hamlets (id, name, created_at) VALUES (:i, :n, :t)"),
            [{"i": h + 1, "n": f"Ấp {h + 1}", "t": start} for h in range(HAMLETS)],
        )
        c.execute(
            sa.text("INSERT INTO speakers (id, hamlet_id, online, created_at) VALUES (:s, :h, 0, :t)"),
            [
                {"s": f"spk-{h + 1}-{k}", "h": h + 1, "t": start}
                for h in range(HAMLETS)
                for k in range(SPEAKERS_PER_HAMLET)
            ],
        )
        b_rows, d_rows, e_rows = [], [], []
        did = bid = eid = 0
        while did < deliveries:
            bid += 1
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            b_rows.append(
                {
                    "id": bid,
                    "a": rng.choice((1, 2)),
                    "p": rng.choice(("normal", "normal", "priority", "emergency")),
                    "t": at,
                    "x": at + timedelta(minutes=15),
                }
            )
            for h in rng.sample(range(1, HAMLETS + 1), rng.randint(1, 3)):
                for k in range(SPEAKERS_PER_HAMLET):
                    did += 1
                    state = (
                        "played" if rng.random() < 0.93 else rng.choice(("failed", "unconfirmed", "missed"))
                    )
                    d_rows.append(
                        {"id": did, "b": bid, "s": f"spk-{h}-{k}", "c": f"c{did}", "st": state, "t": at}
                    )
                    for n, ev in enumerate(("queued", "sent", "received", "downloaded", state)):
                        eid += 1
                        e_rows.append(
                            {
                                "id": eid,
                                "d": did,
                                "e": ev,
                                "src": "agent" if n > 1 else "controller",
                                "t": at + timedelta(seconds=n),
                                "det": "no answer" if ev in ("failed", "unconfirmed", "missed") else None,
                            }
                        )
            if len(e_rows) > 50_000:
                _flush(c, b_rows, d_rows, e_rows)
        _flush(c, b_rows, d_rows, e_rows)


def _flush(c, b_rows, d_rows, e_rows) -> None:
    if b_rows:
        c.execute(
            sa.text(
                "INSERT INTO broadcasts (id, announcement_id, priority, emergency_override, play_at,"
                " dispatch_at, expires_at, created_at) VALUES (:id, :a, :p, 0, :t, :t, :x, :t)"
            ),
            b_rows,
        )
    if d_rows:
        c.execute(
            sa.text(
                "INSERT INTO deliveries (id, broadcast_id, speaker_id, command_id, state, state_at,"
                " sends, agent_seen) VALUES (:id, :b, :s, :c, :st, :t, 1, 1)"
            ),
            d_rows,
        )
    if e_rows:
        c.execute(
            sa.text(
                "INSERT INTO delivery_events (id, delivery_id, event, source, at, recorded_at, detail)"
                " VALUES (:id, :d, :e, :src, :t, :t, :det)"
            ),
            e_rows,
        )
    b_rows.clear()
    d_rows.clear()
    e_rows.clear()


def timed(fn, runs: int) -> tuple[float, float, float]:
    """(median, min, max) wall time in ms."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out), min(out), max(out)


def main() -> None:
    """Seed (unless the DB exists) and print the timings."""
    from controller.services import delivery_log

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--db", type=Path, default=None, help="keep the seeded DB here (reused if it exists)")
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "log.db"
    fresh = not path.exists()
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    if fresh:
        t0 = time.perf_counter()
        # No ANALYZE: the controller never runs it, so the planner works without statistics.
        seed(db, args.events, random.Random(6))
        print(f"seeded {args.events:,} events in {time.perf_counter() - t0:.1f} s into {path}")
    with db.engine.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM delivery_events")).scalar()
        nd = c.execute(sa.text("SELECT count(*) FROM deliveries")).scalar()
    print(f"{n:,} delivery events, {nd:,} deliveries")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    cases = {
        "1 month, 1 hamlet, state=played, page 1": delivery_log.LogFilter(
            date_from=date(2026, 6, 1), date_to=date(2026, 6, 30), hamlet_id=3, state="played"
        ),
        "1 month, 1 hamlet, state=played, page 20": (
            delivery_log.LogFilter(
                date_from=date(2026, 6, 1), date_to=date(2026, 6, 30), hamlet_id=3, state="played"
            ),
            20,
        ),
        "whole year, state=failed, priority=emergency, page 1": delivery_log.LogFilter(
            state="failed", priority="emergency"
        ),
        "1 week, engine=gtts, page 1": delivery_log.LogFilter(
            date_from=date(2026, 9, 7), date_to=date(2026, 9, 13), engine="gtts"
        ),
        "no filter, page 1": delivery_log.LogFilter(),
        "one speaker, whole year, page 1": delivery_log.LogFilter(speaker_id="spk-5-3"),
    }
    print("| query | rows | median ms | min–max ms |\n| --- | --- | --- | --- |")
    for name, case in cases.items():
        f, page = case if isinstance(case, tuple) else (case, 1)
        with db.session() as s:
            rows = len(delivery_log.search(s, f, tz, page).rows)
            med, lo, hi = timed(lambda f=f, page=page: delivery_log.search(s, f, tz, page), args.runs)
        print(f"| {name} | {rows} | {med:.1f} | {lo:.1f}–{hi:.1f} |")


if __name__ == "__main__":
    main()
