"""One simulator process: many paho MQTT 5 clients driven by a single selector loop.

paho's external-loop API is used (loop_read / loop_write / loop_misc on sockets we
select on) instead of loop_start(), which would cost a thread per client. A publish
made inside a paho callback is only queued, so every read is followed by a write.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import random
import selectors
import socket
import time
from functools import partial

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.simulator.speaker import MediaCache, SimSpeaker
from protocol import signing
from protocol.messages import SpeakerState, utc_now
from protocol.topics import Topics

log = logging.getLogger(__name__)
MAX_RUN_S = 3600  # a worker never outlives its bench, whatever the parent does


class Worker:
    """Owns the clients, the timers and the control pipe of one process."""

    def __init__(self, spec: dict, conn):
        self.spec = spec
        self.conn = conn
        self.topics = Topics(spec["prefix"])
        self.keys = {signing.key_id(k): k
                     for k in map(signing.load_public_key, spec["public_keys"])}
        self.media = MediaCache()
        self.sel = selectors.DefaultSelector()
        self.sel.register(conn.fileno(), selectors.EVENT_READ, None)
        self.clients: list[mqtt.Client] = []
        self.by_sid: dict[str, mqtt.Client] = {}
        self.sims: dict[str, SimSpeaker] = {}
        self.ready: set[str] = set()
        self.listening: set[str] = set()
        """Speakers whose group topics the broker granted (after the controller's membership)."""
        self.lost: set[str] = set()
        self.timers: list = []
        self._seq = itertools.count()
        self.pending_write: set = set()
        self.running = True
        self.hamlet_of: dict[str, int] = {}
        """The hamlet each speaker listens for, as its heartbeat reports it."""
        self.heartbeats = 0

    # -- timers --
    def later(self, at: float, fn) -> None:
        """Run fn at unix time `at` (from the loop thread)."""
        heapq.heappush(self.timers, (at, next(self._seq), fn))

    def _run_timers(self) -> None:
        now = time.time()
        while self.timers and self.timers[0][0] <= now:
            _, _, fn = heapq.heappop(self.timers)
            fn()

    # -- clients --
    def _make(self, sid: str, password: str) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sim-{sid}",
                        protocol=mqtt.MQTTv5)
        c.username_pw_set(sid, password)
        c.will_set(self.topics.state(sid), SpeakerState(sid, False, utc_now()).encode(),
                   qos=1, retain=True)
        c.max_inflight_messages_set(100)

        def send(topic, payload, client=c):
            client.publish(topic, payload, qos=1)
            self.pending_write.add(client)

        group_subs: dict[int, int] = {}  # SUBSCRIBE mid -> hamlet id

        def subscribe(topics, hamlet_id, client=c):
            _, mid = client.subscribe([(t, 1) for t in topics])
            group_subs[mid] = hamlet_id
            self.pending_write.add(client)

        def on_subscribe(cl, ud, mid, rcs, pr, sid=sid):
            hamlet = group_subs.pop(mid, None)
            if hamlet is None:
                self.ready.add(sid)
            elif not any(rc.is_failure for rc in rcs):  # tell the controller, as the agent does
                self.listening.add(sid)
                self.hamlet_of[sid] = hamlet
                cl.publish(self.topics.state(sid), SpeakerState(
                    sid, True, utc_now(), version="bench-sim", hamlet_id=hamlet).encode(),
                    qos=1, retain=True)
                self.pending_write.add(cl)

        self.by_sid[sid] = c
        sim = SimSpeaker(sid, self.topics.ack(sid), self.keys, self.media, send, self.later,
                         play_s=self.spec.get("play_s", 0.2), topics=self.topics,
                         subscribe=subscribe)
        self.sims[sid] = sim
        c.on_connect = lambda cl, ud, fl, rc, pr, sid=sid: self._on_connect(cl, sid, rc)
        c.on_subscribe = on_subscribe
        c.on_message = lambda cl, ud, msg, sim=sim: sim.on_message(msg.topic, msg.payload)
        return c

    def _on_connect(self, client, sid, reason_code) -> None:
        if reason_code.is_failure:
            log.error("broker refused simulated speaker %s: %s", sid, reason_code)
            self.lost.add(sid)
            return
        client.subscribe([(self.topics.cmd(sid), 1), (self.topics.membership(sid), 1)])
        client.publish(self.topics.state(sid), SpeakerState(sid, True, utc_now(),
                       version="bench-sim").encode(), qos=1, retain=True)
        self.pending_write.add(client)

    def connect_all(self, timeout: float) -> None:
        """Connect every client and wait (bounded) until each has subscribed."""
        host, port = self.spec["host"], self.spec["port"]
        for sid, password in self.spec["speakers"]:
            c = self._make(sid, password)
            c.connect(host, port, keepalive=60, clean_start=True)
            sock = c.socket()
            # paho leaves Nagle on; the real agent turns it off too (DESIGN.md).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sel.register(sock, selectors.EVENT_READ, c)
            self.clients.append(c)
            self._pump(0)  # keep CONNACKs flowing while we open more sockets
        deadline = time.monotonic() + timeout
        while len(self.ready) + len(self.lost) < len(self.clients) and time.monotonic() < deadline:
            self._pump(0.05)

    # -- heartbeats --
    def start_heartbeats(self, every_s: float) -> None:
        """Republish each speaker's state every `every_s`, phases spread over the interval.

        The agent does this (speaker_agent/agent.py, health.heartbeat_s, 30 s by default),
        so a province of 10,000 speakers sends ~333 state messages a second whatever else
        happens; the bench keeps that load on while it measures.
        """
        rng = random.Random(0)
        for sid in self.by_sid:
            self.later(time.time() + rng.uniform(0, every_s), partial(self._beat, sid, every_s))

    def _beat(self, sid: str, every_s: float) -> None:
        c = self.by_sid[sid]
        if sid not in self.lost:
            c.publish(self.topics.state(sid), SpeakerState(
                sid, True, utc_now(), version="bench-sim",
                hamlet_id=self.hamlet_of.get(sid)).encode(), qos=1, retain=True)
            self.pending_write.add(c)
            self.heartbeats += 1
        self.later(time.time() + every_s, partial(self._beat, sid, every_s))

    # -- loop --
    def _pump(self, timeout: float) -> None:
        for key, _ in self.sel.select(timeout):
            c = key.data
            if c is None:
                self._control(self.conn.recv())
                continue
            rc = c.loop_read(max_packets=20)
            if rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
                self._drop(c, rc)
                continue
            self.pending_write.add(c)
        self._run_timers()
        self._flush()

    def _flush(self) -> None:
        still = set()
        for c in self.pending_write:
            if c.want_write():
                c.loop_write()
                if c.want_write():
                    still.add(c)
        self.pending_write = still

    def _drop(self, c, rc) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(c.socket())
        self.lost.add(c._client_id.decode().removeprefix("sim-"))
        log.warning("simulated speaker lost its connection: %s", mqtt.error_string(rc))

    def _control(self, msg: dict) -> None:
        op = msg.get("op")
        if op == "reset":
            for sim in self.sims.values():
                sim.events.clear()
            self.conn.send({"ok": True})
        elif op == "report":
            self.conn.send({"events": {sid: sim.events for sid, sim in self.sims.items()},
                            "lost": sorted(self.lost), "fetches": self.media.fetches,
                            "listening": len(self.listening), "heartbeats": self.heartbeats})
        elif op == "blast":
            # Ack every given command as fast as the clients can publish (bench.ingest):
            # one message per step as agents before ack batches, or (batched) the first
            # three steps in one message and `played` in another, as an agent with the
            # audio cached.
            n = 0
            for sid, command_ids in msg["acks"].items():
                sim = self.sims.get(sid)
                for cid in command_ids if sim else ():
                    steps = [] if msg.get("batched") else None
                    for event in ("received", "downloaded", "playing"):
                        sim._ack(cid, event, batch=steps)
                        n += steps is None
                    if steps is not None:
                        sim._send(steps)
                        n += 1
                    sim._ack(cid, "played")
                    n += 1
                self._flush()
            self.conn.send({"published": n})
        elif op == "stop":
            self.running = False

    def run(self) -> None:
        """Serve until told to stop (or MAX_RUN_S passes)."""
        end = time.monotonic() + MAX_RUN_S
        last_misc = time.monotonic()
        while self.running and time.monotonic() < end:
            next_t = self.timers[0][0] - time.time() if self.timers else 0.2
            self._pump(max(0.0, min(0.2, next_t)))
            if time.monotonic() - last_misc > 1.0:
                for c in self.clients:
                    c.loop_misc()  # keepalive pings
                    self.pending_write.add(c)
                last_misc = time.monotonic()
        for c in self.clients:
            with contextlib.suppress(Exception):
                c.disconnect()
                c.loop_write()


def main(spec: dict, conn) -> None:
    """Process entry point: connect, say ready, serve control messages."""
    logging.basicConfig(level=logging.WARNING, format="sim %(levelname)s %(message)s")
    w = Worker(spec, conn)
    w.connect_all(spec.get("connect_timeout", 120))
    conn.send({"ready": len(w.ready), "lost": sorted(w.lost)})
    if spec.get("heartbeat_s"):
        w.start_heartbeats(spec["heartbeat_s"])
    w.run()
    conn.send({"bye": True})
