"""Ack ingestion: events per second into the delivery log (SQLite, PostgreSQL), against the
broker's raw message rate in the same run.

Simulated speakers ack 2,000 deliveries (received, downloaded, playing, played: 8,000
acks) as fast as they can (under the managed broker's max_queued_messages of 10,000 per
client: a bigger blast makes Mosquitto drop QoS 1 messages for a subscriber that lags),
in two shapes: one message per ack (agents before ack batches) and batched (received,
downloaded and playing in one message, played in another: an agent with the audio cached).
A bare subscriber counts them as the broker delivers them
(the raw rate); the controller's own MqttBus + Ingestor write them to the delivery log.

Run: .venv/bin/python -m bench.ingest [--deliveries 5000] [--backends sqlite,postgresql]
     [--shapes single,batched]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from bench import harness, pg
from bench.common import replace_section, table, wait_until
from bench.simulator.fleet import Fleet

SPEAKERS = 100


class RawCounter:
    """A bare subscriber on every ack topic: first and last arrival, count."""

    def __init__(self, port: int, password: str, topic: str):
        self.n = 0
        self.first = self.last = 0.0
        self.lock = threading.Lock()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw", protocol=mqtt.MQTTv5)
        c.username_pw_set("controller", password)
        ready = threading.Event()
        c.on_connect = lambda cl, *a: cl.subscribe(topic, qos=1)
        c.on_subscribe = lambda *a: ready.set()
        c.on_message = self._on_message
        c.connect("127.0.0.1", port, keepalive=30)
        c.loop_start()
        if not ready.wait(30):
            raise RuntimeError("raw counter did not subscribe")
        self.client = c

    def _on_message(self, client, userdata, msg):
        now = time.time()
        with self.lock:
            self.first = self.first or now
            self.last = now
            self.n += 1

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def _seed_deliveries(site, n: int, prefix: str = "bench") -> dict[str, list[str]]:
    """One broadcast with n deliveries spread over the speakers; returns speaker -> command ids."""
    from controller.models import Announcement, AudioAsset, Broadcast, Delivery, utcnow

    now = utcnow()
    ids = [sid for sid, _ in site.speakers]
    acks: dict[str, list[str]] = {sid: [] for sid in ids}
    with site.ctl.db.session() as s:
        if s.get(AudioAsset, "c" * 64) is None:
            s.add(AudioAsset(sha256="c" * 64, bytes=1, duration_ms=1000, source="tts"))
        ann = Announcement(title="bench", audio_sha256="c" * 64, status="approved")
        s.add(ann)
        s.flush()
        b = Broadcast(announcement_id=ann.id, priority="normal", play_at=now, dispatch_at=now,
                      expires_at=now.replace(year=now.year + 1))
        s.add(b)
        s.flush()
        rows = []
        for i in range(n):
            sid = ids[i % len(ids)]
            cid = f"{prefix}-{i}"
            acks[sid].append(cid)
            rows.append({"broadcast_id": b.id, "speaker_id": sid, "command_id": cid,
                         "state": "sent", "state_at": now, "sends": 1, "agent_seen": False})
        s.execute(sa.insert(Delivery), rows)
    return acks


def _events(db) -> int:
    from controller.models import DeliveryEvent

    with db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(DeliveryEvent)
                        .where(DeliveryEvent.source == "agent"))


def _capacity(site, deliveries: int, batched: bool) -> float:
    """Acks/s of the Ingestor alone: every message queued before its thread starts, no broker.

    What the ingest path can take when nothing else competes for it: the ceiling of the
    "ingested" column, to compare with the goal apart from the broker and the simulator.
    """
    from controller.ingest import Ingestor
    from protocol.acks import encode_acks
    from protocol.messages import Ack, utc_now

    acks = _seed_deliveries(site, deliveries, prefix="capacity")
    before = _events(site.ctl.db)
    ingestor = Ingestor(SimpleNamespace(db=site.ctl.db))
    n = 0
    for sid, cids in acks.items():
        for cid in cids:
            steps = [Ack(cid, sid, e, utc_now()) for e in ("received", "downloaded", "playing",
                                                           "played")]
            groups = [steps[:3], steps[3:]] if batched else [[a] for a in steps]
            for g in groups:
                ingestor.on_message(sid, "ack", encode_acks(g))
                n += 1
    t0 = time.time()
    ingestor.start()
    wait_until(lambda: ingestor.ack_messages >= n, 300, 0.01, "capacity run done")
    elapsed = time.time() - t0
    ingestor.stop()
    return (_events(site.ctl.db) - before) / max(1e-6, elapsed)


def run_backend(name: str, db_url: str, deliveries: int, processes: int,
                batched: bool = False) -> dict:
    """One backend and shape: seed, blast, time the raw subscriber and the ingestor."""
    from controller.ingest import Ingestor
    from controller.mqtt_bus import BrokerAddress, MqttBus

    with tempfile.TemporaryDirectory(prefix=f"bench-ingest-{name}-") as tmp:
        site = harness.build(Path(tmp), SPEAKERS, db_url)
        fleet = Fleet(host="127.0.0.1", port=site.broker_port, prefix=site.ctl.topics.prefix,
                      speakers=site.speakers, public_keys=site.public_keys(),
                      processes=processes)
        try:
            acks = _seed_deliveries(site, deliveries)
            fleet.start()
            total = deliveries * 4  # acks
            messages = deliveries * (2 if batched else 4)
            raw = RawCounter(site.controller_port, site.controller_password(),
                             site.ctl.topics.all_acks())
            ingestor = Ingestor(SimpleNamespace(db=site.ctl.db))
            ingestor.start()
            first = []
            addr = BrokerAddress("127.0.0.1", site.controller_port, "controller",
                                 site.controller_password())

            def on_message(speaker_id, kind, payload):
                if not first:
                    first.append(time.time())
                ingestor.on_message(speaker_id, kind, payload)

            bus = MqttBus(addr, site.ctl.topics, on_message, client_id="bench-ingest")
            bus.start()
            wait_until(bus.connected.is_set, 30, what="bus connected")
            time.sleep(0.5)  # let the speakers' retained states pass first
            ingestor.ack_messages = 0
            first.clear()
            try:
                t0 = time.time()
                fleet.blast(acks, batched=batched)
                fleet.blast_done()
                wait_until(lambda: raw.n >= messages, 120, 0.01,
                           f"raw subscriber: {raw.n}/{messages}")
                wait_until(lambda: ingestor.ack_messages >= messages, 300, 0.01, "ingestor done")
                t_ingested = time.time()
                stored = _events(site.ctl.db)
            finally:
                bus.stop()
                ingestor.stop()
                raw.close()
            capacity = _capacity(site, deliveries, batched)
            return {"capacity": capacity, "backend": name, "shape": "batched" if batched else "single",
                    "acks": total, "messages": messages, "stored": stored,
                    "raw_rate": total / max(1e-6, raw.last - t0),
                    "ingest_rate": stored / max(1e-6, t_ingested - t0),
                    "raw_s": raw.last - t0, "ingest_s": t_ingested - t0}
        finally:
            fleet.stop()
            site.close()


def main(argv: list[str] | None = None) -> list[dict]:
    """Measure each backend, print, and (unless --no-write) write `## Ack ingestion`."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--deliveries", type=int, default=2000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--shapes", default="single,batched",
                    help="single: one message per ack; batched: ack batches (protocol/acks.py)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    out, notes = [], []
    for name in args.backends.split(","):
        url = ""
        if name == "postgresql":
            url = pg.fresh_schema_url()
            if url is None:
                notes.append("PostgreSQL: skipped, nothing answers on 127.0.0.1:5432.")
                continue
        try:
            for shape in args.shapes.split(","):
                if name == "postgresql" and out and out[-1]["backend"] == name:
                    url = pg.fresh_schema_url()
                out.append(run_backend(name, url, args.deliveries, args.processes,
                                       batched=shape == "batched"))
                print(out[-1], flush=True)
        finally:
            if name == "postgresql":
                pg.drop_schema()
    rows = [[r["backend"], r["shape"], f"{r['acks']:,}", f"{r['messages']:,}",
             f"{r['stored']:,}", f"{r['raw_rate']:,.0f}/s",
             f"{r['ingest_rate']:,.0f}/s", f"{r['ingest_rate'] / r['raw_rate']:.2f}",
             f"{r['capacity']:,.0f}/s"]
            for r in out]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    body = table(["backend", "shape", "acks sent", "MQTT messages", "events stored",
                  "broker raw rate (acks)", "ingested into the log", "ingest ÷ raw",
                  "ingestor alone"], rows)
    body += f"\n\nLoad average (1, 5, 15 min) at the end of the run: {load}."
    if notes:
        body += "\n\n" + " ".join(notes)
    print(body, flush=True)
    if not args.no_write:
        replace_section("Ack ingestion", INTRO + "\n\n" + body + "\n\n" + NOTES)
    return out


INTRO = """\
`python -m bench.ingest`: 100 simulated speakers (2 processes) publish every ack of 2,000
deliveries (received, downloaded, playing, played: 8,000 acks) as fast as they can, in
two shapes: `single`, one QoS 1 message per ack (agents before ack batches), and
`batched`, received + downloaded + playing in one ack batch and played in another (an
agent with the audio cached; protocol/acks.py). A blast over 10,000 messages overflows
Mosquitto's `max_queued_messages 10000` for a lagging subscriber, which then drops QoS 1
messages: see docs/scaling.md. In the same run a bare subscriber counts the messages as
Mosquitto delivers them (the broker's raw rate, in acks per second), and the controller's
own `MqttBus` + `Ingestor` (up to 500 messages per transaction, bulk statements:
controller/ack_store.py) write them to the delivery log. Both rates are measured from
the start of the blast; "ingested" is events in `delivery_events` ÷ time until the last
is committed. "Ingestor alone" is 8,000 more acks of the same shape queued in memory
before the ingestor starts (no broker traffic, simulator idle): its own ceiling.
PostgreSQL runs in a private schema of the database named by `COMMUNE_RADIO_BENCH_PG`
(default: the `test` database, bench/pg.py)."""


NOTES = """\
**Goal: at least 10,000 acks/s into the log on both backends, and ingest ÷ raw ≥ 0.9.**
On a quiet machine (the run above, 2026-12-01, load average below 2):

- **The ingestor itself meets 10,000/s on both backends**: 20,090–22,830 acks/s on SQLite
  and 10,683–13,234 on PostgreSQL, with the acks queued in memory ("ingestor alone"; up
  from ~1,700/s with the ORM path). A batch of 500 messages is four SELECTs, one
  `INSERT … executemany` and one `UPDATE … CASE` (controller/ack_store.py).
- **End to end it cannot be shown on this machine**: ingestion cannot exceed what Mosquitto
  hands one Python (paho) subscriber, the raw rate, 2,479–5,342 acks/s here, with the
  8 publishers, the broker and the controller on the same 2 cores. Batches double it in
  acks (two messages carry four acks), which is the point of ack batches.
- **Ingest ÷ raw: 0.92 for batched acks on SQLite, 0.77–0.78 for the other rows** (goal
  0.9; not met for those). In the same process as paho's network thread, the writer
  thread's share of the GIL is what is missing; at a load average of 12–17 (the run before
  this one) the same bench gave 0.82–0.92 at a quarter of these rates.
- Where the ingestor's time goes (py-spy of the controller during a fan-out to 1,000
  speakers; 3,004 busy samples of the ingestor thread): the bulk statements and lookups
  through SQLAlchemy 75 % (`add_agent_events` 23 %, `seen_agent_events` 21 %,
  `advance_states` 16 %, the delivery lookup 15 %), of which the driver's own execute calls
  are 27 % and the rest SQLAlchemy's per-row parameter processing; JSON decoding and
  validation 15 %. The dedupe lookup (`seen_agent_events`) would go with a unique index on
  (delivery, event, at) and `ON CONFLICT DO NOTHING`, which needs a migration.
- The way to both goals end to end is what docs/scaling.md describes: the ingestor in a
  process of its own (its own GIL, its own MQTT connection), several such processes sharing
  the acks through an MQTT 5 shared subscription, and more than 2 cores for the broker and
  the publishers; then `COPY` on PostgreSQL."""


if __name__ == "__main__":
    main()
