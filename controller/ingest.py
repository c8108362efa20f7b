"""Ingests acks and speaker states from MQTT into the database, in batches, off the network thread."""

from __future__ import annotations

import logging
import queue
import threading

import sqlalchemy as sa

from controller import stream_ingest
from controller.models import AuditEvent, Delivery, DeliveryEvent, Speaker, utcnow
from controller.province import outbox as province_outbox
from controller.services import agent_updates, audit, deliveries
from protocol.errors import ProtocolError
from protocol.messages import Ack, SpeakerState

log = logging.getLogger(__name__)


class Ingestor:
    """Queue fed by the MQTT thread; one writer thread commits batches."""

    def __init__(self, ctx, batch: int = 500):
        self.ctx = ctx
        self.batch = batch
        self.q: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.processed = 0

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._loop, name="ingestor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drain and stop."""
        self._stop.set()
        self.q.put(None)
        if self._thread:
            self._thread.join(timeout=10)

    def on_message(self, speaker_id: str, kind: str, payload: bytes) -> None:
        """Called on the MQTT thread: enqueue only."""
        if kind in ("ack", "state"):
            self.q.put((speaker_id, kind, payload))

    def _loop(self) -> None:
        while not self._stop.is_set():
            item = self.q.get()
            items = [item]
            while len(items) < self.batch:
                try:
                    items.append(self.q.get_nowait())
                except queue.Empty:
                    break
            items = [i for i in items if i is not None]
            if not items:
                continue
            try:
                self.process(items)
            except Exception:
                # One bad row must not drop the batch: retry item by item.
                log.exception("batch of %d failed; retrying one by one", len(items))
                for one in items:
                    try:
                        self.process([one])
                    except Exception:
                        log.exception("dropping unprocessable %s from %s", one[1], one[0])
            self.processed += len(items)

    def process(self, items: list[tuple[str, str, bytes]]) -> None:
        """Apply a batch of messages in one transaction."""
        decoded = []
        for speaker_id, kind, payload in items:
            try:
                msg = Ack.decode(payload) if kind == "ack" else SpeakerState.decode(payload)
            except ProtocolError as exc:
                log.warning("malformed %s from %s ignored: %s", kind, speaker_id, exc)
                continue
            decoded.append((speaker_id, kind, msg))
        if not decoded:
            return
        with self.ctx.db.session() as s:
            deliveries_by_cmd = self._deliveries(
                s, {m.command_id for _, kind, m in decoded if kind == "ack"})
            # One SELECT per batch and writes only at commit: a query per ack used to
            # autoflush, holding SQLite's write lock for the whole batch and starving the
            # dispatcher (bench/fanout.py, docs/benchmarks.md "Fan-out").
            seen = self._seen_agent_events(s, deliveries_by_cmd.values())
            others = {m.command_id for _, kind, m in decoded
                      if kind == "ack" and m.command_id not in deliveries_by_cmd}
            streams_by_cmd = stream_ingest.deliveries(s, others) if others else {}
            seen_streams = stream_ingest.seen_events(s, streams_by_cmd.values())
            rejected = self._audited_rejections(
                s, {(sid, m.command_id) for sid, kind, m in decoded
                    if kind == "ack" and m.event == "rejected"})
            with s.no_autoflush:
                for speaker_id, kind, msg in decoded:
                    if kind == "ack" and msg.command_id in streams_by_cmd:
                        self._stream_ack(s, speaker_id, msg, streams_by_cmd, seen_streams)
                    elif kind == "ack":
                        self._ack(s, speaker_id, msg, deliveries_by_cmd, seen, rejected)
                    else:
                        self._state(s, speaker_id, msg)

    @staticmethod
    def _seen_agent_events(s, found) -> set:
        """(delivery id, event, at) of agent events already recorded for these deliveries."""
        ids = sorted(d.id for d in found)
        seen: set = set()
        ev = DeliveryEvent
        for i in range(0, len(ids), 500):
            rows = s.execute(sa.select(ev.delivery_id, ev.event, ev.at).where(
                ev.delivery_id.in_(ids[i:i + 500]), ev.source == "agent"))
            seen.update((r[0], r[1], r[2]) for r in rows)
        return seen

    @staticmethod
    def _audited_rejections(s, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """(speaker, command id) of these rejections already in the audit log."""
        if not keys:
            return set()
        rows = s.execute(sa.select(AuditEvent.actor, AuditEvent.target).where(
            AuditEvent.action == "command_rejected",
            AuditEvent.target.in_(sorted({cmd for _, cmd in keys}))))
        return {(r[0], r[1]) for r in rows} & keys

    @staticmethod
    def _deliveries(s, command_ids: set[str]) -> dict[str, Delivery]:
        found: dict[str, Delivery] = {}
        ids = sorted(command_ids)
        for i in range(0, len(ids), 500):  # stay under every backend's bound-parameter limit
            rows = s.scalars(sa.select(Delivery).where(Delivery.command_id.in_(ids[i:i + 500])))
            found.update((d.command_id, d) for d in rows)
        return found

    def _ack(self, s, topic_speaker: str, ack: Ack, by_cmd: dict[str, Delivery],
             seen: set, rejected: set) -> None:
        # The broker's ACL lets a speaker write only its own ack topic, so the topic is
        # the authenticated identity; a payload claiming another speaker is a forgery.
        if ack.speaker_id != topic_speaker:
            log.warning("ack on %s's topic claims speaker %s; ignored", topic_speaker,
                        ack.speaker_id)
            audit.record(s, "ack_forged", actor=topic_speaker, target=ack.command_id,
                         detail=f"claimed speaker {ack.speaker_id}")
            return
        if ack.event == "rejected" and (topic_speaker, ack.command_id) not in rejected:
            # Deduped first: a retained fake rejection came back at every controller
            # reconnect, and an agent resends an unconfirmed ack; each is one audit row.
            rejected.add((topic_speaker, ack.command_id))
            audit.record(s, "command_rejected", actor=topic_speaker, target=ack.command_id,
                         detail=ack.detail)
        d = by_cmd.get(ack.command_id)
        if d is None and agent_updates.apply_ack(s, topic_speaker, ack):
            return  # an agent update command (controller/services/agent_updates.py)
        if d is None or d.speaker_id != topic_speaker:
            log.info("ack %s for command %s that is not a delivery", ack.event, ack.command_id)
            return
        key = (d.id, ack.event, ack.at)
        if key in seen:
            # Agents resend an unconfirmed ack byte for byte after a crash or a broker
            # restart (at-least-once); the log keeps one copy.
            return
        seen.add(key)
        deliveries.append(s, d, ack.event, "agent", at=ack.at, detail=ack.detail)
        metrics = getattr(self.ctx, "metrics", None)
        if metrics is not None:  # agent clock to stored: NTP keeps the two within milliseconds
            metrics.ack_ingest_lag_seconds.observe(max(0.0, (utcnow() - ack.at).total_seconds()))

    @staticmethod
    def _stream_ack(s, topic_speaker: str, ack: Ack, by_cmd: dict, seen: set) -> None:
        d = by_cmd[ack.command_id]
        if ack.speaker_id != topic_speaker or d.speaker_id != topic_speaker:
            log.warning("stream ack on %s's topic for %s's delivery; ignored", topic_speaker,
                        d.speaker_id)
            audit.record(s, "ack_forged", actor=topic_speaker, target=ack.command_id,
                         detail=f"claimed speaker {ack.speaker_id}")
            return
        if ack.event == "rejected":
            audit.record(s, "command_rejected", actor=topic_speaker, target=ack.command_id,
                         detail=ack.detail)
        stream_ingest.apply(s, d, ack, seen)

    def _state(self, s, topic_speaker: str, st: SpeakerState) -> None:
        if st.speaker_id != topic_speaker:
            log.warning("state on %s's topic claims %s; ignored", topic_speaker, st.speaker_id)
            return
        spk = s.get(Speaker, topic_speaker)
        if spk is None:
            log.info("state from unregistered speaker %s ignored", topic_speaker)
            return
        spk.online = st.online
        before, spk.state = spk.state, st.to_payload()
        province_outbox.speaker_state(s, topic_speaker, before, spk.state)
        spk.state_at = utcnow()
        if st.online:
            spk.last_seen = utcnow()
