"""The agenda: every occurrence in a range with what became of it.

Stored rows say planned, dispatched, missed (with reason) or cancelled; dispatched ones are
reported as 'played' once every delivery has its final word, with "played on n of m speakers"
counted over the deliveries (a speaker counts when every repeat played there). Occurrences
beyond the runner's horizon have no row yet; they are expanded from the plan and shown as
planned with no id.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from controller.models import Broadcast, Occurrence, Schedule
from controller.services.deliveries import TERMINAL
from protocol.messages import format_time
from schedules import store
from schedules.firing import repeat_key
from schedules.plan import SchedulePlan
from schedules.recurrence import occurrences
from schedules.runtime import occurrence_key

MAX_ITEMS = 2000


def _played(plan: SchedulePlan, key: str, found: dict[str, Broadcast]) -> tuple[int, int, dict, bool]:
    """(speakers played everywhere, speakers targeted, delivery state counts, all final)."""
    per_speaker: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for i in range(plan.repeat_count):
        b = found.get(repeat_key(key, i))
        for d in b.deliveries if b else ():
            per_speaker[d.speaker_id].append(d.state)
            counts[d.state] += 1
    played = sum(1 for states in per_speaker.values()
                 if len(states) == plan.repeat_count and all(x == "played" for x in states))
    final = bool(per_speaker) and all(x in TERMINAL for xs in per_speaker.values() for x in xs)
    return played, len(per_speaker), dict(counts), final


def _item(sch: Schedule, plan: SchedulePlan, due: datetime, tz: ZoneInfo,
          occ: Occurrence | None, found: dict[str, Broadcast]) -> dict:
    key = occ.occurrence_key if occ else occurrence_key(sch.id, due)
    item = {
        "occurrence_id": occ.id if occ else None, "key": key, "schedule_id": sch.id,
        "title": sch.title, "priority": plan.priority,
        "kind": "relay" if sch.relay_source_id is not None else "announcement",
        "due_at": format_time(due), "due_local": due.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        "state": occ.state if occ else "planned",
        "reason_code": occ.reason_code if occ else None,
        "reason": occ.reason if occ else None, "reason_vi": occ.reason_vi if occ else None,
        "broadcast_id": occ.broadcast_id if occ else None,
    }
    if occ is not None and occ.state == "dispatched":
        played, targeted, counts, final = _played(plan, key, found)
        item.update(played_on=played, speakers=targeted, deliveries=counts,
                    status=f"played on {played} of {targeted} speakers",
                    status_vi=f"đã phát trên {played}/{targeted} loa")
        if final and played:
            item["state"] = "played"
    return item


def agenda(s, start: datetime, end: datetime, now: datetime, timezone: str, user=None) -> list[dict]:
    """Occurrences due in [start, end), oldest first, with their state (in the user's hamlets)."""
    from controller.services import access

    tz = ZoneInfo(timezone)
    scope = access.scope_of(user)
    seen: dict[int, bool] = {}

    def shown(sch: Schedule) -> bool:
        if sch.id not in seen:
            seen[sch.id] = access.targets_visible(s, scope, sch.targets)
        return seen[sch.id]

    rows = [o for o in store.occurrences_between(s, start, end, limit=MAX_ITEMS) if shown(o.schedule)]
    plans = {}
    keys = []
    for occ in rows:
        plan = plans.setdefault(occ.schedule_id, SchedulePlan.from_dict(occ.schedule.plan))
        keys += [repeat_key(occ.occurrence_key, i) for i in range(plan.repeat_count)]
    found = store.broadcasts_for_keys(s, keys)
    items = [_item(o.schedule, plans[o.schedule_id], o.due_at, tz, o, found) for o in rows]
    stored = {o.occurrence_key for o in rows}
    for sch in store.active_schedules(s):
        if not shown(sch):
            continue
        begin = max(start, sch.planned_until or now, now)
        if begin >= end:
            continue
        plan = SchedulePlan.from_dict(sch.plan)
        for due in occurrences(plan.recurrence, begin, end)[:MAX_ITEMS]:
            if occurrence_key(sch.id, due) not in stored:
                items.append(_item(sch, plan, due, tz, None, found))
    items.sort(key=lambda x: (x["due_at"], x["schedule_id"]))
    return items[:MAX_ITEMS]
