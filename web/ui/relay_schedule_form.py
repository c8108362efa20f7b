"""Reading the 'schedule a relay' form, and the scheduled relays as the Tiếp sóng page lists them."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from controller.services import access, registry
from controller.services.errors import ServiceError
from schedules.forms import check_plan
from web.ui.common import message, schedule_errors
from web.ui.compose_form import input_for, plan_fields, read_schedule, targets_of

DURATIONS_MIN = (15, 30, 45, 60, 90, 120, 180, 240)
REFUSED = _l("Only a leader (approver) or an admin may schedule a relay.")


@dataclass
class RelayScheduleForm:
    """What the clerk typed, the errors per field, and the overlaps found (shown like a schedule's)."""

    source_id: str = ""
    minutes: str = "30"
    hamlets: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    all_speakers: bool = False
    confirm: bool = False
    schedule: dict = field(default_factory=lambda: {"kind": "daily"})
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def targets(self) -> dict:
        """The targets in the service's shape."""
        return targets_of(self.all_speakers, self.hamlets, self.speakers)

    def body(self) -> dict:
        """The schedule as schedules.manage takes it (the same body as POST /api/v1/schedules)."""
        return {"relay": {"source_id": int(self.source_id), "duration_s": int(self.minutes) * 60},
                "targets": self.targets, **plan_fields(self.schedule)}


def read(req: Request, timezone: str) -> RelayScheduleForm:
    """Parse and check the form; errors are keyed by input name, every bad field at once."""
    form = req.form
    f = RelayScheduleForm(
        source_id=form.get("source_id", "").strip(), minutes=form.get("minutes", "").strip(),
        hamlets=form.getlist("hamlets"), speakers=form.getlist("speakers"),
        all_speakers=form.get("all_speakers") == "1", confirm=form.get("confirm") == "1",
        schedule=read_schedule(form, timezone))
    if not f.source_id.isdigit():
        f.errors["source_id"] = str(_l("Choose a station."))
    if not f.minutes.isdigit() or not 1 <= int(f.minutes) <= 24 * 60:
        f.errors["minutes"] = str(_l("Choose a duration."))
    if not f.targets:
        f.errors["targets"] = message("targets_required")
    _plan, errs = check_plan(plan_fields(f.schedule))
    for key, msg in schedule_errors(errs).items():
        f.errors.setdefault(input_for(key), msg)
    return f


def conflict_lines(found: list[dict], most: int = 5) -> list[str]:
    """The first overlaps in the user's language and how many more, as the compose page lists them."""
    from flask_babel import gettext

    english = str(get_locale()) == "en"
    lines = [c["message"] if english else c["message_vi"] for c in found[:most]]
    if len(found) > most:
        lines.append(gettext("and %(n)s more overlaps", n=len(found) - most))
    return lines


def scheduled(s, user) -> list[dict]:
    """Relay schedules not cancelled that air in the user's hamlets, newest first."""
    from schedules import manage
    from schedules.plan import SchedulePlan
    from schedules.summary import summarize_en, summarize_vi

    scope = access.scope_of(user)
    english = str(get_locale()) == "en"
    out = []
    for sch in manage.list_visible(s, None, user):
        if sch.relay_source_id is None or sch.status == "cancelled":
            continue
        rec = SchedulePlan.from_dict(sch.plan).recurrence
        out.append({"id": sch.id, "title": sch.title, "status": sch.status,
                    "minutes": round((sch.relay_duration_s or 0) / 60),
                    "summary": (summarize_en if english else summarize_vi)(rec),
                    "places": _places(s, scope, sch.targets)})
    return out


def _places(s, scope, targets) -> str:
    """The hamlets a schedule reaches, only those inside the user's scope."""
    if isinstance(targets, dict) and targets.get("all") is True and not scope.limited:
        return str(_l("all hamlets"))
    try:
        speakers = registry.resolve_targets(s, targets)
    except ServiceError:
        return "—"
    names = {spk.hamlet.name for spk in speakers if spk.hamlet and scope.allows(spk.hamlet_id)}
    return ", ".join(sorted(names)) or "—"
