"""Schedule operations behind the API: create, edit, pause, resume, cancel, cancel one occurrence.

Input goes through schedules.forms.check_plan (every field error at once, with message_vi);
conflicts per speaker are computed before saving and returned with the answer. After each
change the runner (if this process has one) re-derives rows and timers from the DB.

A schedule decides targets, priority and times, so only approvers and admins save one
directly (`create`, `update`). An editor's schedule or change goes through `submit`, which
stores it as a request on the announcement; it is carried out when an approver approves
(controller.services.approvals). Pausing, resuming and cancelling never add airtime beyond
what was approved, so editors may do those. Hamlet limits come from controller.services.access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from controller.models import Announcement, Schedule, User
from controller.relay_models import StreamSource
from controller.services import access, audit, registry
from controller.services.errors import Conflict, Forbidden, NotFound, ServiceError
from protocol.errors import ProtocolError
from protocol.messages import format_time, parse_time
from schedules import store
from schedules.conflicts import Slot, find_conflicts
from schedules.errors import FieldError
from schedules.forms import check_plan
from schedules.plan import SchedulePlan
from schedules.recurrence import occurrences
from schedules.runtime import occurrence_key

CONFLICT_WINDOW = timedelta(days=31)
"""How far ahead overlaps are looked for."""
MAX_SLOTS = 2000
"""Per schedule, at most this many occurrences are compared (a per-minute cron is capped)."""
MAX_CONFLICTS = 200


class ScheduleInvalid(ServiceError):
    """The schedule form has field errors; the API returns all of them."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("invalid_schedule", "; ".join(f"{e.field}: {e.message}" for e in errors),
                         field=errors[0].field if errors else None)
        self.errors = errors

    def to_dict(self) -> dict:
        """Error body with every field error (message and message_vi)."""
        return {**super().to_dict(), "errors": [e.to_dict() for e in self.errors]}


def _form_with_defaults(ctx, body: dict[str, Any]) -> dict[str, Any]:
    """The body with the commune's timezone and validity filled in where not given."""
    form = dict(body)
    rec_key = "recurrence" if isinstance(form.get("recurrence"), dict) else None
    rec = dict(form[rec_key]) if rec_key else form
    rec.setdefault("timezone", ctx.settings.timezone)
    if rec_key:
        form[rec_key] = rec
    form.setdefault("validity_s", ctx.settings.validity_s)
    return form


def _announcement(s, body: dict[str, Any], user: User | None, need_approved: bool = True
                  ) -> Announcement:
    from controller.services.approvals import visible

    raw = body.get("announcement_id")
    if raw is None:
        raise ServiceError("announcement_required", "missing field 'announcement_id'",
                           field="announcement_id")
    ann = s.get(Announcement, raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
    if ann is None or not visible(s, ann, access.scope_of(user), user):
        raise NotFound("unknown_announcement", f"unknown announcement {raw!r}", field="announcement_id")
    if need_approved and ann.status != "approved":
        raise ServiceError("not_approved", "the announcement is not approved yet; a schedule "
                           "needs an approved announcement", field="announcement_id")
    if ann.audio is None:
        raise ServiceError("no_audio", "the announcement has no audio", field="announcement_id")
    return ann


def _relay(s, body: dict[str, Any]) -> tuple[int, int]:
    """(source id, duration_s) of a scheduled relay: body["relay"] = {source_id, duration_s}."""
    from controller.services import relays, sources

    relay = body.get("relay")
    if not isinstance(relay, dict):
        raise ServiceError("bad_relay", "field 'relay' must be {source_id, duration_s}",
                           field="relay")
    src = sources.get(s, relay.get("source_id"))
    duration = relay.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, int) \
            or not 10 <= duration <= relays.MAX_DURATION_S:
        raise ServiceError("bad_duration", f"field 'relay.duration_s' must be 10-"
                           f"{relays.MAX_DURATION_S} seconds", field="relay")
    return src.id, duration


def _slots(s, key_id: object, plan: SchedulePlan, speaker_ids: frozenset[str], title: str,
           duration_s: float, start: datetime, end: datetime, timezone: str) -> list[Slot]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(timezone)
    return [Slot(key=occurrence_key(key_id, due), speaker_ids=speaker_ids, start_utc=due,
                 duration_s=duration_s, repeat_count=plan.repeat_count, repeat_gap_s=plan.repeat_gap_s,
                 priority=plan.priority, label=f"{title} {due.astimezone(tz):%d/%m %H:%M}")
            for due in occurrences(plan.recurrence, start, end)[:MAX_SLOTS]]


def conflicts_for(s, ctx, plan: SchedulePlan, speaker_ids: frozenset[str], new_sch: Schedule,
                  now: datetime, schedule_id: int | None = None) -> list[dict]:
    """Overlaps of this plan with other active schedules in the next CONFLICT_WINDOW, per speaker.

    `new_sch` is an unsaved Schedule carrying what plays (announcement or relay) for its title
    and airtime.
    """
    end = now + CONFLICT_WINDOW
    tz = ctx.settings.timezone
    new = _slots(s, schedule_id or "new", plan, speaker_ids, new_sch.title, new_sch.airtime_s,
                 now, end, tz)
    existing: list[Slot] = []
    for other in store.active_schedules(s):
        if other.id == schedule_id:
            continue
        try:
            ids = frozenset(x.id for x in registry.resolve_targets(s, other.targets))
        except ServiceError:
            continue  # its targets no longer resolve; it will be recorded missed when due
        existing += _slots(s, other.id, SchedulePlan.from_dict(other.plan), ids, other.title,
                           other.airtime_s, now, end, tz)
    out = []
    for c in find_conflicts(new, existing)[:MAX_CONFLICTS]:
        out.append({"speakers": sorted(c.speaker_ids), "at": format_time(c.overlap_start_utc),
                    "overlap_s": round(c.overlap_s, 1), "other": c.other.label,
                    "other_schedule_id": _schedule_of(c.other.key, schedule_id),
                    "message": c.describe_en(), "message_vi": c.describe_vi()})
    return out


def _schedule_of(key: str, own: int | None) -> int | None:
    head = key.split("@", 1)[0]
    return int(head) if head.isdigit() else own


def _check(s, ctx, body: dict[str, Any], now: datetime, user: User | None,
           schedule_id: int | None = None, need_approved: bool = True):
    if not isinstance(body.get("targets"), dict):
        raise ServiceError("targets_required", "missing field 'targets'", field="targets")
    plan, errors = check_plan(_form_with_defaults(ctx, body), now_utc=now)
    if errors:
        raise ScheduleInvalid(errors)
    access.check_priority(user, plan.priority)
    if "relay" in body and body.get("announcement_id") is not None:
        raise ServiceError("relay_or_announcement", "give either 'announcement_id' or 'relay', "
                           "not both", field="relay")
    if "relay" in body:
        source_id, duration_s = _relay(s, body)
        # An unsaved Schedule carries title and airtime to the conflict check.
        what = Schedule(relay_source_id=source_id, relay_duration_s=duration_s)
        what.relay_source = s.get(StreamSource, source_id)
    else:
        ann = _announcement(s, body, user, need_approved)
        what = Schedule(announcement_id=ann.id, announcement=ann)
    speakers = frozenset(x.id for x in access.resolve_targets(s, user, body["targets"]))
    return plan, what, speakers, conflicts_for(s, ctx, plan, speakers, what, now, schedule_id)


def _may_save(user: User) -> None:
    if user.role not in access.APPROVE_ROLES:
        raise Forbidden("approval_required", "a schedule decides targets, priority and times: "
                        "an editor's schedule waits for approval (use submit)")


@dataclass(frozen=True)
class Outcome:
    """What `submit` did: a saved schedule, or a request waiting for approval."""

    schedule_id: int | None
    request_id: int | None
    conflicts: list[dict]


def submit(ctx, body: dict[str, Any], user: User, now: datetime, dry_run: bool = False,
           schedule_id: int | None = None) -> Outcome:
    """Create (or, with schedule_id, replace) a schedule; an editor's waits for approval."""
    if user.role in access.APPROVE_ROLES:
        if schedule_id is None:
            sid, conflicts = create(ctx, body, user, now, dry_run)
            return Outcome(sid, None, conflicts)
        return Outcome(schedule_id, None, update(ctx, schedule_id, body, user, now, dry_run))
    from controller.services import approvals

    with ctx.db.session() as s:
        if schedule_id is not None:
            sch = _writable(s, schedule_id, user)
            if sch.status == "cancelled":
                raise Conflict("schedule_cancelled", "a cancelled schedule cannot be edited")
        plan, what, _, conflicts = _check(s, ctx, body, now, user, schedule_id, need_approved=False)
        _check_relay_role(what, user)  # a relay is never an editor's request: it has no approval step
        if dry_run:
            return Outcome(schedule_id, None, conflicts)
        form = {k: v for k, v in body.items() if k not in ("announcement_id", "targets", "priority")}
        req = approvals.add_request(s, what.announcement, user, targets=body["targets"],
                                    priority=plan.priority, when="schedule", schedule_form=form,
                                    schedule_id=schedule_id)
        return Outcome(schedule_id, req.id, conflicts)


def create(ctx, body: dict[str, Any], user: User, now: datetime, dry_run: bool = False
           ) -> tuple[int | None, list[dict]]:
    """Validate and (unless dry_run) save a schedule (approvers, admins); returns (id, conflicts)."""
    _may_save(user)
    with ctx.db.session() as s:
        plan, what, _, conflicts = _check(s, ctx, body, now, user)
        if dry_run:
            return None, conflicts
        _check_relay_role(what, user)
        sch = store.add_schedule(s, announcement_id=what.announcement_id, plan=plan.to_dict(),
                                 targets=body["targets"], user_id=user.id, now=now,
                                 relay_source_id=what.relay_source_id,
                                 relay_duration_s=what.relay_duration_s)
        played = (f"announcement={what.announcement_id}" if what.announcement_id
                  else f"relay source={what.relay_source_id} for {what.relay_duration_s} s")
        audit.record(s, "schedule_created", actor=user.username, target=f"schedule:{sch.id}",
                     detail=f"{played} kind={plan.recurrence.kind}")
        schedule_id = sch.id
    _refresh(ctx)
    return schedule_id, conflicts


def _check_relay_role(what: Schedule, user: User) -> None:
    """A relay airs with no approval step, so only those who may send at once may schedule one."""
    from controller.services.sending import SEND_ROLES

    if what.relay_source_id is not None and user.role not in SEND_ROLES:
        raise Forbidden("forbidden_role", "only an approver or admin may schedule a relay")


def get(s, schedule_id: int, user: User | None = None) -> Schedule:
    """A schedule or NotFound (also when it airs nowhere in the user's hamlets)."""
    sch = store.get_schedule(s, schedule_id)
    if sch is None or not access.targets_visible(s, access.scope_of(user), sch.targets):
        raise NotFound("unknown_schedule", f"unknown schedule {schedule_id}")
    return sch


def list_visible(s, status: str | None, user: User | None) -> list[Schedule]:
    """Schedules, newest first, that air in the user's hamlets."""
    scope = access.scope_of(user)
    return [x for x in store.list_schedules(s, status) if access.targets_visible(s, scope, x.targets)]


def _writable(s, schedule_id: int, user: User | None) -> Schedule:
    """A schedule the user may change: all its places inside his hamlets (403 names one)."""
    sch = get(s, schedule_id, user)
    access.check_targets(s, user, sch.targets)
    return sch


def update(ctx, schedule_id: int, body: dict[str, Any], user: User, now: datetime,
           dry_run: bool = False) -> list[dict]:
    """Replace a schedule's plan/targets/announcement; future planned occurrences are re-derived."""
    _may_save(user)
    with ctx.db.session() as s:
        sch = _writable(s, schedule_id, user)
        if sch.status == "cancelled":
            raise Conflict("schedule_cancelled", "a cancelled schedule cannot be edited")
        plan, what, _, conflicts = _check(s, ctx, body, now, user, schedule_id)
        if dry_run:
            return conflicts
        _check_relay_role(what, user)
        sch.plan, sch.targets, sch.announcement_id = plan.to_dict(), body["targets"], what.announcement_id
        sch.relay_source_id, sch.relay_duration_s = what.relay_source_id, what.relay_duration_s
        sch.updated_at = now
        store.delete_future_planned(s, sch.id, after=now)
        sch.planned_until = now
        audit.record(s, "schedule_updated", actor=user.username, target=f"schedule:{sch.id}")
    _refresh(ctx)
    return conflicts


_REASONS = {
    "paused": ("Not played: the schedule was paused.", "Không phát: lịch đã tạm dừng."),
    "cancelled": ("Not played: the schedule was cancelled.", "Không phát: lịch đã bị hủy."),
}


def set_status(ctx, schedule_id: int, action: str, user: User, now: datetime) -> Schedule:
    """pause, resume or cancel a whole schedule."""
    with ctx.db.session() as s:
        sch = _writable(s, schedule_id, user)
        if sch.status == "cancelled":
            raise Conflict("schedule_cancelled", "the schedule is already cancelled")
        if action == "pause" and sch.status == "active":
            sch.status = "paused"
            store.cancel_future(s, sch.id, now, now, "paused", *_REASONS["paused"])
        elif action == "resume" and sch.status == "paused":
            sch.status = "active"
            store.restore_paused(s, sch.id, now, now)
            start = sch.planned_until or sch.created_at
            if start < now:  # the paused span still gets rows, so the agenda shows why
                rows = [(occurrence_key(sch.id, d), d)
                        for d in occurrences(SchedulePlan.from_dict(sch.plan).recurrence, start, now)]
                store.insert_occurrences(s, sch.id, rows[:MAX_SLOTS], now, "cancelled", "paused",
                                         *_REASONS["paused"])
                sch.planned_until = now
        elif action == "cancel":
            sch.status = "cancelled"
            store.cancel_future(s, sch.id, now, now, "cancelled", *_REASONS["cancelled"])
        sch.updated_at = now
        audit.record(s, f"schedule_{action}", actor=user.username, target=f"schedule:{sch.id}")
    _refresh(ctx)
    return sch


def cancel_occurrence(ctx, schedule_id: int, due_at: Any, user: User, now: datetime) -> str:
    """Cancel one future occurrence (by its due instant); returns its key."""
    try:
        due = parse_time(due_at, "due_at")
    except ProtocolError as exc:
        raise ServiceError("bad_due_at", str(exc), field="due_at") from None
    with ctx.db.session() as s:
        sch = _writable(s, schedule_id, user)
        rec = SchedulePlan.from_dict(sch.plan).recurrence
        if due not in occurrences(rec, due, due + timedelta(seconds=1)):
            raise NotFound("unknown_occurrence", "the schedule has no occurrence at that time",
                           field="due_at")
        key = occurrence_key(sch.id, due)
        occ = store.occurrence_by_key(s, key)
        reason = (f"Not played: cancelled by {user.username}.", f"Không phát: {user.username} đã hủy.")
        if occ is None:
            store.insert_occurrences(s, sch.id, [(key, due)], now, "cancelled", "cancelled", *reason)
        elif occ.state == "planned":
            store.set_outcome(s, occ, "cancelled", now, "cancelled", *reason)
        else:
            raise Conflict("occurrence_not_planned", f"the occurrence is already {occ.state}")
        audit.record(s, "occurrence_cancelled", actor=user.username, target=f"occurrence:{key}")
    _refresh(ctx)
    return key


def _refresh(ctx) -> None:
    runner = getattr(ctx, "scheduler", None)
    if runner is not None:
        runner.refresh()
