"""Who may air what, and where: emergency priority, and users limited to their hamlets.

This is the one place these rules live. Services ask it before they write a broadcast,
a request or a schedule, and when they list speakers, broadcasts, logs, schedules and
reports; views never filter on their own, so the UI, the API, the schedule runner, the
CSV export and the report all see the same thing.

- Emergency priority is for approvers and admins only, wherever it is asked for.
- A user's `areas` is a list of hamlet ids; empty means the whole commune. A limited user
  may target only speakers of those hamlets (a target outside them is refused with a 403
  naming the hamlet), and sees only what touches them: a broadcast, schedule or request is
  visible when one of its places is his, and changeable only when all of them are.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Broadcast, Delivery, Hamlet, Speaker
from controller.services import registry
from controller.services.errors import Forbidden, ServiceError

APPROVE_ROLES = ("admin", "approver")


def check_priority(user, priority: str) -> None:
    """Refuse emergency priority to anyone but an approver or admin."""
    if priority == "emergency" and user is not None and user.role not in APPROVE_ROLES:
        raise Forbidden("emergency_forbidden",
                        "only an approver or admin may use emergency priority", field="priority")


@dataclass(frozen=True)
class Scope:
    """The hamlets a user may see and target; `hamlet_ids` None means the whole commune."""

    hamlet_ids: frozenset[int] | None = None

    @property
    def limited(self) -> bool:
        """True for a user limited to some hamlets."""
        return self.hamlet_ids is not None

    def allows(self, hamlet_id: int) -> bool:
        """Whether this hamlet is inside the scope."""
        return self.hamlet_ids is None or hamlet_id in self.hamlet_ids


WHOLE = Scope()


def scope_of(user) -> Scope:
    """The scope of a user (a User row or the web session's user); None is the system itself."""
    ids = getattr(user, "areas", None) or []
    return Scope(frozenset(int(i) for i in ids)) if ids else WHOLE


def check_areas(s: Session, role: str, hamlet_ids: list[int]) -> list[Hamlet]:
    """Validate a restriction: known hamlets, and never on an admin; returns the hamlets."""
    hamlets = [s.get(Hamlet, int(i)) for i in dict.fromkeys(hamlet_ids or [])]
    if any(h is None for h in hamlets):
        raise ServiceError("unknown_hamlet", "unknown hamlet in the restriction", field="areas")
    if hamlets and role == "admin":
        raise ServiceError("admin_whole_commune",
                           "an admin manages the whole commune and cannot be limited to hamlets; "
                           "choose another role", field="areas")
    return hamlets


def hamlet_ids_by_name(s: Session, names: list[str]) -> list[int]:
    """Hamlet ids for names (as typed on the command line), or NotFound naming the first unknown."""
    out = []
    for name in names:
        h = s.scalar(sa.select(Hamlet).where(Hamlet.name == name.strip()))
        if h is None:
            raise ServiceError("unknown_hamlet", f"unknown hamlet {name!r}", field="areas")
        out.append(h.id)
    return out


def area_names(s: Session, scope: Scope) -> list[str]:
    """The names of a scope's hamlets, for messages."""
    if not scope.limited:
        return []
    return list(s.scalars(sa.select(Hamlet.name).where(Hamlet.id.in_(scope.hamlet_ids))
                          .order_by(Hamlet.name)))


def _outside(s: Session, scope: Scope, hamlet: Hamlet):
    mine = ", ".join(area_names(s, scope)) or "-"
    return Forbidden("outside_areas",
                     f"{hamlet.name} is outside your hamlets ({mine}); you may only send there",
                     field="targets", hamlet=hamlet.name)


def _target_hamlets(s: Session, targets) -> list[Hamlet]:
    """Every hamlet a targets dict names, directly or through its speakers (bad shapes skipped)."""
    if not isinstance(targets, dict):
        return []
    if targets.get("all") is True:
        return registry.list_hamlets(s)
    out: list[Hamlet] = []
    hamlets = targets.get("hamlets")
    for name in hamlets if isinstance(hamlets, list) else []:
        h = s.scalar(sa.select(Hamlet).where(sa.or_(Hamlet.name == str(name),
                                                   sa.cast(Hamlet.id, sa.String) == str(name))))
        if h is not None:
            out.append(h)
    speakers = targets.get("speakers")
    for sid in speakers if isinstance(speakers, list) else []:
        spk = s.get(Speaker, str(sid))
        if spk is not None:
            out.append(spk.hamlet)
    return out


def check_targets(s: Session, user, targets) -> None:
    """Refuse (403, naming the hamlet) targets that reach outside the user's hamlets.

    The named hamlets are checked, not only today's speakers: a schedule is resolved again
    at every occurrence, and a hamlet with no speaker yet may have one next week.
    """
    scope = scope_of(user)
    if not scope.limited:
        return
    for h in _target_hamlets(s, targets):
        if not scope.allows(h.id):
            raise _outside(s, scope, h)


def resolve_targets(s: Session, user, targets) -> list[Speaker]:
    """The active speakers of the targets, refused first if any is outside the user's hamlets."""
    check_targets(s, user, targets)
    return registry.resolve_targets(s, targets)


def check_speakers(s: Session, user, speakers: list[Speaker]) -> None:
    """The last guard before a broadcast is written: every speaker inside the user's hamlets."""
    scope = scope_of(user)
    for spk in speakers:
        if not scope.allows(spk.hamlet_id):
            raise _outside(s, scope, spk.hamlet)


def targets_visible(s: Session, scope: Scope, targets) -> bool:
    """Whether a stored targets dict touches the scope (read access)."""
    return not scope.limited or any(scope.allows(h.id) for h in _target_hamlets(s, targets))


def targets_within(s: Session, scope: Scope, targets) -> bool:
    """Whether a stored targets dict lies entirely inside the scope (write access)."""
    if not scope.limited:
        return True
    hamlets = _target_hamlets(s, targets)
    return bool(hamlets) and all(scope.allows(h.id) for h in hamlets)


def speaker_filter(scope: Scope):
    """A WHERE clause on Speaker for the scope (true for the whole commune)."""
    return sa.true() if not scope.limited else Speaker.hamlet_id.in_(scope.hamlet_ids)


def hamlet_filter(scope: Scope):
    """A WHERE clause on Hamlet for the scope."""
    return sa.true() if not scope.limited else Hamlet.id.in_(scope.hamlet_ids)


def delivery_filter(scope: Scope):
    """A WHERE clause on Delivery: only deliveries to the scope's speakers."""
    if not scope.limited:
        return sa.true()
    return Delivery.speaker_id.in_(sa.select(Speaker.id).where(speaker_filter(scope)))


def broadcast_filter(scope: Scope):
    """A WHERE clause on Broadcast: those with at least one delivery inside the scope."""
    if not scope.limited:
        return sa.true()
    return Broadcast.id.in_(sa.select(Delivery.broadcast_id).where(delivery_filter(scope)))


def visible_deliveries(s: Session, b: Broadcast, scope: Scope) -> list[Delivery]:
    """The deliveries of a broadcast the scope may see."""
    if not scope.limited:
        return list(b.deliveries)
    mine = set(s.scalars(sa.select(Speaker.id).where(speaker_filter(scope))))
    return [d for d in b.deliveries if d.speaker_id in mine]
