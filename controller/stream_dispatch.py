"""The stream part of the outbox: play_stream and stop commands for stream sessions.

Run by the dispatcher's loop (controller/dispatcher.py), with the same promises as file
deliveries: the delivery is in the DB before anything is published; unacknowledged
commands are published again (the agent dedupes by command id); a session's commands
expire at its `until`, and every delivery ends with a reason (ended, missed, cancelled,
or the agent's stream_stopped). At `until` the controller only writes the log: agents stop
on their own, even if the controller is gone.

The listener token travels in the command's `stream.token` (the agent adds it to the URL
as `?token=`); the URL already names the speaker (`?spk=<id>`), so Icecast's listener_add
call carries both to the controller.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from controller import keys
from controller.models import utcnow
from controller.services import streams
from controller.stream_models import StreamDelivery, StreamSession
from protocol import signing
from protocol.messages import Command, Stream

log = logging.getLogger(__name__)
BATCH = 500
MAX_STOP_SENDS = 5
URGENCY = sa.case({"emergency": 0, "priority": 1}, value=StreamSession.priority, else_=2)


class StreamSender:
    """Publishes stream commands from the outbox; one pass per dispatcher pass."""

    def __init__(self, ctx, bus):
        self.ctx = ctx
        self.bus = bus
        self.token_key = keys.random_secret(ctx.data / "keys" / "stream-token.key")

    def run_once(self) -> None:
        """End what is over, then (if connected) publish due, resend, and send stops."""
        with self.ctx.db.session() as s:
            ended = streams.end_due(s)
        if ended:
            log.info("%d stream session(s) reached their end", ended)
        self.drop_listeners()
        if not self.bus.connected.is_set():
            return
        self.publish(resend=False)
        self.publish(resend=True)
        self.send_stops()

    def drop_listeners(self) -> int:
        """Close Icecast connections of revoked speakers and stopped or ended sessions."""
        with self.ctx.db.session() as s:
            rows = streams.listeners_to_drop(s)
            for d, mount in rows:
                if self.ctx.streams_server.kill_listener(mount, d.listener_client):
                    log.info("dropped %s's connection to %s", d.speaker_id, mount)
                d.listener_client = None  # gone either way: dropped now, or already closed
        return len(rows)

    def listen_url(self, d: StreamDelivery) -> str:
        """The mount URL for one speaker (the token is added by the agent)."""
        base = self.ctx.streams_server.listen_url(d.session.mount)
        return f"{base}?{urlencode({'spk': d.speaker_id})}"

    def build(self, d: StreamDelivery, token: str) -> Command:
        """The signed play_stream command of one delivery."""
        session, now = d.session, utcnow()
        cmd = Command(
            id=d.command_id, type="play_stream", speaker_id=d.speaker_id, issued_at=now,
            expires_at=session.until, priority=session.priority, play_at=session.starts_at,
            stream=Stream(session_id=session.key, url=self.listen_url(d), token=token,
                          kind=session.kind, until=session.until),
            label=(session.title or "")[:200] or None,
        )
        return signing.sign(cmd, self.ctx.keys.private_key)

    def publish(self, resend: bool) -> int:
        """Publish queued deliveries whose lead time has come (or resend unacknowledged ones)."""
        now = utcnow()
        lead = timedelta(seconds=self.ctx.settings.lead_time_s)
        q = (sa.select(StreamDelivery).join(StreamSession)
             .where(StreamSession.state != "ended", StreamSession.until > now,
                    StreamSession.starts_at <= now + lead,
                    StreamDelivery.stop_wanted.is_(False))
             .options(selectinload(StreamDelivery.session)))
        if resend:
            cutoff = now - timedelta(seconds=self.ctx.settings.resend_after_s)
            q = q.where(StreamDelivery.state == "sent", StreamDelivery.agent_seen.is_(False),
                        StreamDelivery.last_sent_at < cutoff)
        else:
            q = q.where(StreamDelivery.state == "queued")
        with self.ctx.db.session() as s:
            rows = s.scalars(q.order_by(URGENCY, StreamDelivery.id).limit(BATCH)).all()
            if rows:
                self.ctx.keys.refresh()
            for d in rows:
                token = streams.token_for(self.token_key, d.command_id)
                cmd = self.build(d, token)
                expiry = max(1, int((d.session.until - utcnow()).total_seconds()))
                self.bus.publish_command(cmd, expiry)
                # Written per row, in the same transaction: what went out is on record.
                d.token_hash = d.token_hash or streams.token_hash(token)
                d.sends += 1
                d.last_sent_at = utcnow()
                streams.append(s, d, "sent", "controller", d.last_sent_at,
                               detail=f"resend {d.sends - 1}" if resend else None)
        if rows:
            log.info("%s %d play_stream command(s)", "resent" if resend else "published", len(rows))
        return len(rows)

    def send_stops(self) -> int:
        """Tell speakers of stopped sessions to stop; again until they answer the stop command."""
        now = utcnow()
        cutoff = now - timedelta(seconds=self.ctx.settings.resend_after_s)
        with self.ctx.db.session() as s:
            rows = s.scalars(
                sa.select(StreamDelivery).join(StreamSession)
                .where(StreamDelivery.stop_wanted.is_(True), StreamSession.until > now,
                       StreamDelivery.stop_sends < MAX_STOP_SENDS,
                       sa.or_(StreamDelivery.stop_last_sent_at.is_(None),
                              StreamDelivery.stop_last_sent_at < cutoff))
                .options(selectinload(StreamDelivery.session)).limit(BATCH)).all()
            if rows:
                self.ctx.keys.refresh()
            for d in rows:
                session = d.session
                cmd = signing.sign(Command(
                    id=d.stop_command_id, type="stop", speaker_id=d.speaker_id,
                    issued_at=utcnow(), expires_at=session.until, priority="emergency",
                    session_id=session.key), self.ctx.keys.private_key)
                self.bus.publish_command(cmd, max(1, int((session.until - utcnow())
                                                         .total_seconds())))
                d.stop_sends += 1
                d.stop_last_sent_at = utcnow()
                streams.append(s, d, "stop_sent", "controller", d.stop_last_sent_at,
                               detail=session.end_reason)
        return len(rows)
