"""Group fan-out: one signed group command per hamlet topic (or one for the commune) instead of
one command per speaker, so the broker, not the controller, fans a broadcast out.

Who goes by group: the first send of a delivery whose speaker has told us (its retained
state's `hamlet_id`) that it listens on its current hamlet's group topics. The rest
(agents that have not learned their hamlet yet, a speaker just moved, an old agent) and
every resend go out as per-speaker commands, as before. A delivery's command id is
derived from the broadcast's group id (protocol.groups.member_command_id), so the group
command and a per-speaker resend are the same command to the agent: it plays it once.
Every delivery published by group still gets its own `sent` event.

Targets: a hamlet whose every active speaker has a delivery is named by its id; otherwise
the speakers are listed, if they are at least half of the hamlet (every speaker of the
hamlet receives the message; for a few of many, per-speaker commands cost less). When
every hamlet is named, one message goes on the commune topic.

Memberships: each active speaker's hamlet is published as a signed, retained
protocol.groups.Membership on its own topic; `sync_memberships` republishes it when the
speaker moves (and once per connection), so an agent follows a move without a config change.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from controller.models import Announcement, Broadcast, Delivery, Speaker, utcnow
from protocol import signing
from protocol.groups import (
    MAX_SPEAKER_TARGETS,
    GroupCommand,
    Membership,
    Targets,
    group_of,
)
from protocol.messages import Media

log = logging.getLogger(__name__)
GROUP_MIN = 2
"""Fewer first sends than this in a broadcast go per speaker (a single speaker always does)."""
MEMBERSHIP_SYNC_S = 5.0
GROUP_SUBJECT = "~group-"
"""Media links in a group command are signed for `~group-<group id>` (no speaker id starts with ~)."""


@dataclass
class GroupPlan:
    """One broadcast's group send: the messages (topic, targets) and the deliveries they carry."""

    urgency: int
    broadcast_id: int
    group_id: str
    messages: list[tuple[str, Targets]] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)

    @property
    def order(self) -> tuple[int, int]:
        """Sort key among per-speaker rows: urgency, then the oldest delivery."""
        return (self.urgency, min(self.delivery_ids))


class GroupSender:
    """Plans and publishes group commands; keeps the speakers' retained memberships current."""

    def __init__(self, ctx, bus):
        self.ctx = ctx
        self.bus = bus
        self._published: dict[str, int] = {}  # speaker -> hamlet id, on the current connection
        self._connects = -1
        self._last_sync = 0.0

    # -- memberships --
    def sync_memberships(self) -> int:
        """Publish the membership of every speaker whose hamlet changed; clear revoked ones."""
        connects = getattr(self.bus, "connects", 0)
        if connects != self._connects:  # a new connection: say everything once more
            self._published.clear()
            self._connects = connects
        elif time.monotonic() - self._last_sync < MEMBERSHIP_SYNC_S:
            return 0
        self._last_sync = time.monotonic()
        with self.ctx.db.session() as s:
            want = dict(s.execute(sa.select(Speaker.id, Speaker.hamlet_id)
                                  .where(Speaker.revoked_at.is_(None))).all())
        n = 0
        for sid, hamlet_id in want.items():
            if self._published.get(sid) != hamlet_id:
                m = self.ctx.keys.sign(Membership(sid, hamlet_id, utcnow()))
                self.bus.publish_membership(sid, m.encode())
                self._published[sid] = hamlet_id
                n += 1
        for sid in set(self._published) - set(want):
            self.bus.publish_membership(sid, b"")  # revoked: its retained hamlet goes too
            del self._published[sid]
        if n:
            log.info("published the hamlet of %d speaker(s)", n)
        return n

    # -- group commands --
    def plan(self, s, now: datetime, urgency) -> list[GroupPlan]:
        """Group sends for every due broadcast with at least GROUP_MIN first sends ready."""
        bids = s.execute(
            sa.select(Delivery.broadcast_id, urgency)
            .join(Broadcast, Delivery.broadcast_id == Broadcast.id)
            .where(Delivery.state == "queued", Delivery.sends == 0,
                   Broadcast.dispatch_at <= now, Broadcast.expires_at > now)
            .group_by(Delivery.broadcast_id, Broadcast.priority)
            .having(sa.func.count() >= GROUP_MIN)).all()
        if not bids:
            return []
        active: dict[int, set[str]] = {}
        for sid, hid in s.execute(sa.select(Speaker.id, Speaker.hamlet_id)
                                  .where(Speaker.revoked_at.is_(None))):
            active.setdefault(hid, set()).add(sid)
        plans = []
        for bid, urg in bids:
            rows = s.execute(
                sa.select(Delivery.id, Delivery.speaker_id, Delivery.command_id, Speaker.hamlet_id,
                          Speaker.state)
                .join(Speaker, Delivery.speaker_id == Speaker.id)
                .where(Delivery.broadcast_id == bid, Delivery.state == "queued",
                       Delivery.sends == 0, Speaker.revoked_at.is_(None))).all()
            plan = self._plan_one(bid, urg, rows, active)
            if plan is not None:
                plans.append(plan)
        return plans

    def _plan_one(self, bid: int, urg: int, rows, active: dict[int, set[str]]) -> GroupPlan | None:
        group_id = group_of(rows[0].command_id) if rows else None
        if group_id is None or any(group_of(r.command_id) != group_id for r in rows):
            return None  # written before group commands existed: per speaker
        queued: dict[int, set[str]] = {}
        ready: dict[int, list] = {}
        for r in rows:
            queued.setdefault(r.hamlet_id, set()).add(r.speaker_id)
            if (r.state or {}).get("hamlet_id") == r.hamlet_id:  # it listens on that topic
                ready.setdefault(r.hamlet_id, []).append(r)
        if sum(len(v) for v in ready.values()) < GROUP_MIN:
            return None
        whole = {h for h in ready if queued[h] == active.get(h, set())}
        # The broker gives a hamlet's message to every speaker of the hamlet: listing a few
        # of many would cost the others a download (over 4G) for nothing. Those go per speaker.
        ready = {h: rs for h, rs in ready.items()
                 if h in whole or len(rs) * 2 >= len(active.get(h, ()))}
        if sum(len(v) for v in ready.values()) < GROUP_MIN:
            return None
        plan = GroupPlan(urgency=urg, broadcast_id=bid, group_id=group_id)
        topics = self.ctx.topics
        if whole == set(ready) and whole == {h for h, ids in active.items() if ids}:
            plan.messages.append((topics.commune_cmd(), Targets(hamlets=tuple(sorted(whole)))))
        else:
            for h in sorted(ready):
                if h in whole:
                    plan.messages.append((topics.hamlet_cmd(h), Targets(hamlets=(h,))))
                    continue
                ids = sorted(r.speaker_id for r in ready[h])
                for i in range(0, len(ids), MAX_SPEAKER_TARGETS):
                    plan.messages.append((topics.hamlet_cmd(h),
                                          Targets(speakers=tuple(ids[i:i + MAX_SPEAKER_TARGETS]))))
        plan.delivery_ids = [r.id for rows_h in ready.values() for r in rows_h]
        return plan

    def publish(self, s, plan: GroupPlan) -> list[dict]:
        """Sign and publish a plan's messages; the `sent` rows for the deliveries they carry."""
        b = s.get(Broadcast, plan.broadcast_id)
        asset = s.get(Announcement, b.announcement_id).audio
        ttl = max(600, int((b.expires_at - utcnow()).total_seconds()) + 3600)
        media = Media(url=self.ctx.store.signed_url(self.ctx.media_base, asset.sha256,
                                                    GROUP_SUBJECT + plan.group_id, ttl),
                      sha256=asset.sha256, bytes=asset.bytes, duration_ms=asset.duration_ms)
        label = (s.get(Announcement, b.announcement_id).title or "")[:200] or None
        expiry = max(1, int((b.expires_at - utcnow()).total_seconds()))
        for topic, targets in plan.messages:
            cmd = GroupCommand(group=plan.group_id, targets=targets, issued_at=utcnow(),
                               expires_at=b.expires_at, play_at=b.play_at, media=media,
                               priority=b.priority, label=label)
            self.bus.publish_group(topic, signing.sign(cmd, self.ctx.keys.private_key), expiry)
        now = utcnow()
        log.info("broadcast %d: one group command in %d message(s) for %d speaker(s)",
                 b.id, len(plan.messages), len(plan.delivery_ids))
        return [{"did": did, "now": now, "detail": "group"} for did in plan.delivery_ids]
