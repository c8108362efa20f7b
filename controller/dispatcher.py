"""The outbox publisher: deliveries are in the DB before anything is published.

A loop publishes queued deliveries whose dispatch time has come, republishes
deliveries no agent has acknowledged after `resend_after_s` (paho keeps QoS 1
in-flight state only in memory, so a controller crash right after publish() could
lose a message; the agent dedupes by command id), and closes deliveries that can
no longer happen as `missed` or `unconfirmed`, so every delivery ends with a reason.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from controller.group_dispatch import GroupSender
from controller.models import Announcement, Broadcast, Delivery, DeliveryEvent, UTCDateTime, utcnow
from controller.services import deliveries
from controller.stream_dispatch import StreamSender
from controller.update_sender import UpdateSender
from protocol import signing
from protocol.messages import Command, Media

log = logging.getLogger(__name__)
OPEN_STATES = ("queued", "sent")
SENT_CHUNK = 2000  # ids per UPDATE: well under SQLite's 32,766 bound parameters
# Emergencies go out first. (Ordering the priority column itself would be alphabetical:
# "priority" > "normal" > "emergency", i.e. emergencies last.)
URGENCY = sa.case({"emergency": 0, "priority": 1}, value=Broadcast.priority, else_=2)
BATCH = 500


class Dispatcher:
    """Runs the outbox loop in a thread; `kick()` wakes it when new work is written."""

    def __init__(self, ctx, bus, interval_s: float = 1.0):
        self.ctx = ctx
        self.bus = bus
        self.interval_s = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.groups = GroupSender(ctx, bus)
        self.streams = StreamSender(ctx, bus)
        self.updates = UpdateSender(ctx, bus)

    def start(self) -> None:
        """Start the loop thread."""
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def kick(self) -> None:
        """Wake the loop now (new deliveries were written)."""
        self._wake.set()

    def _loop(self) -> None:
        backoff = self.interval_s
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            try:
                self.run_once()
                backoff = self.interval_s
            except Exception:
                log.exception("dispatcher pass failed; retrying")
                backoff = min(30.0, backoff * 2)

    def run_once(self) -> None:
        """One pass: close what is past, publish what is due, resend what is unacknowledged."""
        self.close_expired()
        if self.bus.connected.is_set():
            if self.ctx.settings.group_commands:
                self.groups.sync_memberships()  # each speaker's hamlet, retained, for group commands
            while self.publish_due() == BATCH:
                pass
            self.resend_unacknowledged()
        self.streams.run_once()  # stream sessions: controller/stream_dispatch.py
        self.updates.run_once()  # agent updates over the air: controller/update_sender.py

    def _build(self, d: Delivery, b: Broadcast) -> Command:
        asset = b.announcement.audio
        # The link lives as long as the command can still play, plus an hour for retries.
        ttl = max(600, int((b.expires_at - utcnow()).total_seconds()) + 3600)
        media = Media(
            url=self.ctx.store.signed_url(self.ctx.media_base, asset.sha256, d.speaker_id, ttl),
            sha256=asset.sha256, bytes=asset.bytes, duration_ms=asset.duration_ms,
        )
        cmd = Command(
            id=d.command_id, type="play", speaker_id=d.speaker_id, issued_at=utcnow(),
            expires_at=b.expires_at, priority=b.priority, play_at=b.play_at, media=media,
            label=(b.announcement.title or "")[:200] or None,
        )
        # KeyRing.sign() stats the key file on every call to follow a CLI rotation; once per
        # pass is enough (publish_due refreshes), and the stat cost ~0.5 ms each under load.
        return signing.sign(cmd, self.ctx.keys.private_key)

    def _publish(self, d: Delivery, resend: bool) -> dict:
        b = d.broadcast
        cmd = self._build(d, b)
        expiry = max(1, int((b.expires_at - utcnow()).total_seconds()))
        self.bus.publish_command(cmd, expiry)
        return {"did": d.id, "now": utcnow(), "detail": f"resend {d.sends}" if resend else None}

    def _publish_all(self, s, rows: list[Delivery], resend: bool) -> None:
        if rows:
            self.ctx.keys.refresh()  # follow a key rotation done by the CLI
        sent: list[dict] = []
        try:
            for d in rows:
                sent.append(self._publish(d, resend))
        finally:
            # What went out is recorded even if the broker dropped us halfway through.
            self._record_sent(s, sent)

    @staticmethod
    def _record_sent(s, sent: list[dict]) -> None:
        """Record `sent` in two statements, without regressing a state an ack already moved on.

        Acks can be ingested (by another session) between publish() and this commit; an ORM
        attribute write would overwrite their `playing`/`played` with a stale `sent`.
        """
        if not sent:
            return
        t, ev = Delivery.__table__, DeliveryEvent.__table__
        # A group command's deliveries share one `now`: one UPDATE … WHERE id IN (…) per
        # chunk, instead of an executemany whose per-row parameter processing was most of
        # recording 10,000 sends.
        by_now: dict = {}
        for r in sorted(sent, key=lambda r: r["did"]):
            by_now.setdefault(r["now"], []).append(r["did"])
        if s.get_bind().dialect.name == "postgresql":
            # Lock every row first, in id order, as the ingestor's ack UPDATEs do
            # (ack_store.advance_states): an UPDATE … IN locks in scan order, and a group
            # command's acks arrive while this transaction is still open, so without one
            # order the two deadlocked. NO KEY UPDATE, like the UPDATE itself: it does not
            # block the KEY SHARE locks that inserting delivery events takes.
            dids = sorted(r["did"] for r in sent)
            for i in range(0, len(dids), SENT_CHUNK):
                s.execute(sa.select(t.c.id).where(t.c.id.in_(dids[i:i + SENT_CHUNK]))
                          .order_by(t.c.id).with_for_update(key_share=True)).all()
        fresh = t.c.state.in_(("queued", "sent"))
        for at, dids in by_now.items():
            at_p = sa.literal(at, type_=UTCDateTime())  # typed: a bare datetime in CASE is not
            for i in range(0, len(dids), SENT_CHUNK):
                s.execute(
                    sa.update(t).where(t.c.id.in_(dids[i:i + SENT_CHUNK])).values(
                        sends=t.c.sends + 1, last_sent_at=at,
                        state=sa.case((fresh, "sent"), else_=t.c.state),
                        state_at=sa.case((fresh, at_p), else_=t.c.state_at)))
        s.execute(sa.insert(ev), [
            {"delivery_id": r["did"], "event": "sent", "source": "controller", "at": r["now"],
             "recorded_at": r["now"], "detail": r["detail"]} for r in sent])

    def publish_due(self) -> int:
        """Publish queued deliveries whose dispatch time has come; returns how many rows were due.

        Broadcasts with several speakers listening on their group topics go out as group
        commands (controller/group_dispatch.py); the rest one command per speaker. Both are
        published in one order: emergencies first, then the oldest.
        """
        now = utcnow()
        with self.ctx.db.session() as s:
            plans = self.groups.plan(s, now, URGENCY) if self.ctx.settings.group_commands else []
            grouped = {did for p in plans for did in p.delivery_ids}
            rows = s.scalars(
                sa.select(Delivery).join(Broadcast)
                .where(Delivery.state == "queued", Broadcast.dispatch_at <= now,
                       Broadcast.expires_at > now)
                .options(selectinload(Delivery.broadcast).selectinload(Broadcast.announcement)
                         .selectinload(Announcement.audio))
                .order_by(URGENCY, Delivery.id).limit(BATCH)
            ).all()
            rank = {"emergency": 0, "priority": 1}
            work = [(p.order, p) for p in plans] + [
                ((rank.get(d.broadcast.priority, 2), d.id), d) for d in rows if d.id not in grouped]
            work.sort(key=lambda w: w[0])
            if work:
                self.ctx.keys.refresh()  # follow a key rotation done by the CLI
            sent: list[dict] = []
            try:
                for _, item in work:
                    if isinstance(item, Delivery):
                        sent.append(self._publish(item, resend=False))
                    else:
                        sent += self.groups.publish(s, item)
            finally:
                # What went out is recorded even if the broker dropped us halfway through.
                self._record_sent(s, sent)
        if work:
            log.info("published %d delivery(ies): %d by group command", len(sent),
                     sum(len(p.delivery_ids) for p in plans))
        return len(rows)

    def resend_unacknowledged(self) -> int:
        """Republish sent deliveries that no agent has acknowledged in time."""
        now = utcnow()
        cutoff = now - timedelta(seconds=self.ctx.settings.resend_after_s)
        with self.ctx.db.session() as s:
            rows = s.scalars(
                sa.select(Delivery).join(Broadcast)
                .where(Delivery.state == "sent", Delivery.agent_seen.is_(False),
                       Delivery.last_sent_at < cutoff, Broadcast.expires_at > now)
                .options(selectinload(Delivery.broadcast).selectinload(Broadcast.announcement)
                         .selectinload(Announcement.audio))
                .limit(BATCH)
            ).all()
            self._publish_all(s, rows, resend=True)
        return len(rows)

    def close_expired(self) -> int:
        """Give a final reason to deliveries whose broadcast can no longer play."""
        now = utcnow()
        grace = timedelta(seconds=60)
        n = 0
        with self.ctx.db.session() as s:
            never_sent = s.scalars(
                sa.select(Delivery).join(Broadcast)
                .where(Delivery.state == "queued", Broadcast.expires_at <= now).limit(BATCH)
            ).all()
            for d in never_sent:
                deliveries.append(s, d, "missed", "controller",
                                  detail="not sent before it expired (broker unreachable?)")
                n += 1
            silent = s.scalars(
                sa.select(Delivery).join(Broadcast)
                .where(Delivery.state.not_in(list(deliveries.TERMINAL) + ["unconfirmed"]),
                       Broadcast.expires_at <= now - grace)
                .options(selectinload(Delivery.broadcast).selectinload(Broadcast.announcement))
                .limit(BATCH)
            ).all()
            for d in silent:
                b = d.broadcast
                long_enough = b.play_at + timedelta(
                    milliseconds=b.announcement.audio.duration_ms if b.announcement.audio else 0)
                if now < max(b.expires_at, long_enough) + grace:
                    continue
                deliveries.append(s, d, "unconfirmed", "controller",
                                  detail=f"no final acknowledgement from the speaker "
                                         f"(last state: {d.state})")
                n += 1
        return n
