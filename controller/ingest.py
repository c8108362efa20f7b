"""Ingests acks and speaker states from MQTT into the database, in batches, off the network thread.

Acks go through a queue to one writer thread, which applies each batch in one
transaction with a fixed number of bulk statements (controller/ack_store.py).
Speaker states (heartbeats, every 30 s from every speaker) take their own cheap path:
the latest payload per speaker is kept in memory (last value wins) and written every
`state_flush_s` in one transaction, so 10,000 speakers' heartbeats cost one bulk write
a second instead of 333 queued messages a second ahead of the acks. That write runs on a
thread of its own: at 10,000 speakers it was ~40 % of the ack writer's busy time (py-spy,
bench.fanout --province), and while it waits on the database the acks go on.
"""

from __future__ import annotations

import logging
import queue
import threading

from controller import ack_store, stream_ingest
from controller.models import utcnow
from controller.province import outbox as province_outbox
from controller.services import agent_updates, audit, deliveries
from protocol.acks import decode_acks
from protocol.errors import ProtocolError
from protocol.messages import Ack, SpeakerState

log = logging.getLogger(__name__)
STATE_FLUSH_S = 1.0


class Ingestor:
    """Queue fed by the MQTT thread; one writer thread commits batches."""

    def __init__(self, ctx, batch: int = 500, state_flush_s: float = STATE_FLUSH_S):
        self.ctx = ctx
        self.batch = batch
        self.state_flush_s = state_flush_s
        self.q: queue.Queue = queue.Queue()
        self._states: dict[str, bytes] = {}
        self._states_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._count_lock = threading.Lock()  # two writer threads count
        self.processed = 0
        """Messages handled (ack messages and speaker states), for benches and tests."""
        self.ack_messages = 0
        """Ack messages handled (one batch counts once)."""

    def start(self) -> None:
        """Start the ack writer and the speaker-state writer threads."""
        self._thread = threading.Thread(target=self._loop, name="ingestor", daemon=True)
        self._thread.start()
        self._state_thread = threading.Thread(target=self._state_loop, name="speaker-states",
                                              daemon=True)
        self._state_thread.start()

    def stop(self) -> None:
        """Drain, write the pending states, and stop."""
        self._stop.set()
        self.q.put(None)
        for t in (self._thread, self._state_thread):
            if t:
                t.join(timeout=10)

    def on_message(self, speaker_id: str, kind: str, payload: bytes) -> None:
        """Called on the MQTT thread: enqueue an ack, or keep a speaker's latest state."""
        if kind == "ack":
            self.q.put((speaker_id, kind, payload))
        elif kind == "state":
            with self._states_lock:
                self._states[speaker_id] = payload

    def flush_states(self) -> None:
        """Write the latest state of every speaker heard from since the last flush."""
        with self._states_lock:
            pending, self._states = self._states, {}
        if pending:
            self._apply([(sid, "state", payload) for sid, payload in pending.items()])

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.q.get(timeout=0.5)
            except queue.Empty:
                continue
            self._apply(self._take(first))
        self._apply(self._take(None))  # what arrived before stop()

    def _state_loop(self) -> None:
        while not self._stop.wait(self.state_flush_s):
            self.flush_states()
        self.flush_states()  # what arrived before stop()

    def _take(self, first) -> list:
        items = [first]
        while len(items) < self.batch:
            try:
                items.append(self.q.get_nowait())
            except queue.Empty:
                break
        return [i for i in items if i is not None]

    def _apply(self, items: list) -> None:
        if not items:
            return
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
        with self._count_lock:
            self.processed += len(items)
            self.ack_messages += sum(1 for i in items if i[1] == "ack")

    def process(self, items: list[tuple[str, str, bytes]]) -> None:
        """Apply a batch of messages in one transaction (acks in order, then states)."""
        acks: list[tuple[str, Ack]] = []
        states: dict[str, SpeakerState] = {}
        for speaker_id, kind, payload in items:
            try:
                if kind == "ack":
                    acks.extend((speaker_id, a) for a in decode_acks(payload))
                else:
                    states[speaker_id] = SpeakerState.decode(payload)  # the latest wins
            except ProtocolError as exc:
                log.warning("malformed %s from %s ignored: %s", kind, speaker_id, exc)
        if not acks and not states:
            return
        with self.ctx.db.session() as s, s.no_autoflush:
            if acks:
                self._acks(s, acks)
            if states:
                self._states_in(s, states)

    def _acks(self, s, acks: list[tuple[str, Ack]]) -> None:
        """One SELECT per kind of lookup, then one INSERT and one UPDATE for the whole batch."""
        cmd_ids = {a.command_id for _, a in acks}
        by_cmd = ack_store.deliveries(s, cmd_ids)
        others = cmd_ids - by_cmd.keys()
        streams_by_cmd = stream_ingest.deliveries(s, others) if others else {}
        seen_streams = stream_ingest.seen_events(s, streams_by_cmd.values())
        seen = ack_store.seen_agent_events(s, {d.id for d in by_cmd.values()})
        rejected = ack_store.audited_rejections(
            s, {(sid, a.command_id) for sid, a in acks if a.event == "rejected"})
        batch = _Batch(utcnow())
        for speaker_id, ack in acks:
            if ack.command_id in streams_by_cmd:
                self._stream_ack(s, speaker_id, ack, streams_by_cmd, seen_streams)
            else:
                self._ack(s, speaker_id, ack, by_cmd, seen, rejected, batch)
        ack_store.add_agent_events(s, batch.events)
        ack_store.advance_states(s, batch.moves(), tuple(deliveries.TERMINAL))
        for d, event, at in batch.ended:  # the province's aired-bulletin log (off: no-op)
            province_outbox.delivery_row_ended(s, d.id, d.speaker_id, event, at)
        metrics = getattr(self.ctx, "metrics", None)
        if metrics is not None:  # agent clock to stored: NTP keeps the two within milliseconds
            for row in batch.events:
                metrics.ack_ingest_lag_seconds.observe(
                    max(0.0, (batch.now - row["at"]).total_seconds()))

    @staticmethod
    def _ack(s, topic_speaker: str, ack: Ack, by_cmd: dict, seen: set, rejected: set,
             batch: _Batch) -> None:
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
        batch.add(d, ack)

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

    @staticmethod
    def _states_in(s, states: dict[str, SpeakerState]) -> None:
        """Each speaker's latest state in one UPDATE per online/offline group."""
        stored = ack_store.speaker_states(s, set(states))
        rows = []
        for topic_speaker, st in states.items():
            if st.speaker_id != topic_speaker:
                log.warning("state on %s's topic claims %s; ignored", topic_speaker,
                            st.speaker_id)
                continue
            if topic_speaker not in stored:
                log.info("state from unregistered speaker %s ignored", topic_speaker)
                continue
            after = st.to_payload()
            province_outbox.speaker_state(s, topic_speaker, stored[topic_speaker], after)
            rows.append({"sid": topic_speaker, "online": st.online, "state": after})
        ack_store.store_states(s, rows, utcnow())


class _Batch:
    """The delivery events of one batch and where each delivery's state ends up."""

    def __init__(self, now):
        self.now = now
        self.events: list[dict] = []
        self.ended: list = []
        self._state: dict[int, tuple[str, object]] = {}

    def add(self, d: ack_store.DeliveryRow, ack: Ack) -> None:
        """One new agent event, applied in order with the same rule as deliveries.append."""
        detail = ack.detail[:500] if ack.detail else None
        self.events.append({"delivery_id": d.id, "event": ack.event, "at": ack.at,
                            "recorded_at": self.now, "detail": detail})
        current, at = self._state.get(d.id, (d.state, None))
        if deliveries.advances(current, ack.event):
            if ack.event in deliveries.TERMINAL and current not in deliveries.TERMINAL:
                self.ended.append((d, ack.event, ack.at))
            current, at = ack.event, ack.at
        self._state[d.id] = (current, at)

    def moves(self) -> list[dict]:
        """Rows for ack_store.advance_states; `agent_seen` is set even where nothing advanced."""
        return [{"did": did, "new_state": state, "new_at": at or self.now}
                for did, (state, at) in self._state.items()]
