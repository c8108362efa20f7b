"""Province link: upward sender throughput, and catch-up after the province was away.

    .venv/bin/python -m bench.province                  # --records 5000 --backlog 20000 (~2 min)
    .venv/bin/python -m bench.province --backlog 100000 # the 100,000-record catch-up (~9 min)

A controller with the link on (SQLite in a temporary data directory) sends device-status
records to the mock province (controller/province/mock.py) on loopback, one HTTPS-less POST
per record over a keep-alive session, token auth on. The mock runs in the same process
(a thread), so both share one interpreter: the figure is a floor for a real province.
Throughput: a queue of --records, sent from cold. Catch-up: --backlog records queued while
the province was down, then the time until the last one is acknowledged.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from controller.config import load
from controller.models import utcnow
from controller.province.client import ProvinceError
from controller.province.mock import PASSWORD, USERNAME, MockProvinceServer
from controller.province.models import ProvinceRecord
from controller.runtime import Controller
from controller.services import registry


def queue(ctl, n: int) -> None:
    """Put n status records into the outbox in bulk (as hours of heartbeats would)."""
    now = utcnow()
    rows = [{"kind": "status", "speaker_id": f"spk-{i % 90}", "record_key": uuid.uuid4().hex,
             "delivery_id": None, "body": {"online": True, "volume": 70, "version": "1.0"},
             "created_at": now, "attempts": 0} for i in range(n)]
    with ctl.db.engine.begin() as c:
        for i in range(0, n, 5000):
            c.execute(sa.insert(ProvinceRecord.__table__), rows[i:i + 5000])


def run(records: int, backlog: int) -> dict:
    """Measure; returns the figures."""
    server = MockProvinceServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = load(data, run_scheduler=False, province={
            "enabled": True, "base_url": server.url, "username": USERNAME, "password": PASSWORD,
            "inbound_token": "x" * 24, "heartbeat_s": 86400})
        ctl = Controller(settings)
        with ctl.db.session() as s:
            for i in range(90):
                registry.add_speaker(s, f"spk-{i}", f"Ấp {i // 10 + 1}")
        sender = ctl.province.sender
        sender._last_heartbeat = time.monotonic()  # no heartbeat records in the figures
        queue(ctl, records)
        t0 = time.perf_counter()
        sent = sender.run_once()
        rate = sent / (time.perf_counter() - t0)
        server.mock.faults.down = True
        queue(ctl, backlog)
        with contextlib.suppress(ProvinceError):  # the province is down: that is the point
            sender.run_once()
        server.mock.faults.down = False
        t0 = time.perf_counter()
        caught = sender.run_once()
        catch_up = time.perf_counter() - t0
        got = len(server.mock.status)
        ctl.stop()
    server.stop()
    return {"records": records, "rate": rate, "backlog": backlog, "caught": caught,
            "catch_up_s": catch_up, "received": got, "duplicates": server.mock.duplicates}


def main() -> None:
    """Print the figures as a Markdown table row."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--backlog", type=int, default=20_000,
                    help="records queued while the province is down (100000: about 9 min here)")
    a = ap.parse_args()
    r = run(a.records, a.backlog)
    print("| queued | sent | time | records/s | received by the mock | duplicates |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| {r['records']:,} (from cold) | {r['records']:,} | {r['records'] / r['rate']:.1f} s | "
          f"{r['rate']:.0f} | | |")
    print(f"| {r['backlog']:,} (after the province was down) | {r['caught']:,} | "
          f"{r['catch_up_s']:.1f} s | {r['caught'] / r['catch_up_s']:.0f} | {r['received']:,} | "
          f"{r['duplicates']} |")


if __name__ == "__main__":
    main()
