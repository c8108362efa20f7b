"""Reading the compose form: field errors in the user's language, keeping what was typed."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Request

from schedules.forms import check_plan
from web.ui.common import message, schedule_errors

SCHEDULE_FIELDS = ("kind", "at", "start_date", "end_date", "times", "weekdays", "month_day",
                   "nth_n", "nth_weekday", "dates", "cron", "repeat_count", "repeat_gap_s",
                   "validity_s")
SOURCES = ("text", "upload", "record")

def targets_of(all_speakers: bool, hamlets: list, speakers: list) -> dict:
    """The targets a form chose, in the services' shape ({"all": True} or hamlets/speakers)."""
    if all_speakers:
        return {"all": True}
    out: dict = {}
    if hamlets:
        out["hamlets"] = hamlets
    if speakers:
        out["speakers"] = speakers
    return out


@dataclass
class ComposeForm:
    """What the user sent, and the errors per field."""

    title: str = ""
    source: str = "text"
    text: str = ""
    hamlets: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    all_speakers: bool = False
    priority: str = "normal"
    when: str = "now"
    emergency: bool = False
    schedule: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def targets(self) -> dict:
        """The targets in the service's shape."""
        return targets_of(self.all_speakers, self.hamlets, self.speakers)

    def schedule_form(self) -> dict:
        """The schedule fields as schedules.forms reads them."""
        return plan_fields(self.schedule)


def read_schedule(form, timezone: str) -> dict:
    """The schedule fields of a posted form (the _schedule_fields.html inputs), as typed."""
    fields = {k: (form.getlist(k) if k == "weekdays" else form.get(k, "").strip())
              for k in SCHEDULE_FIELDS}
    fields["timezone"] = timezone
    return fields


def plan_fields(schedule: dict) -> dict:
    """Typed schedule fields as schedules.forms reads them (the page's two nth selects joined)."""
    f = {k: v for k, v in schedule.items() if k not in ("nth_n", "nth_weekday")}
    if schedule.get("kind") == "monthly" and schedule.get("nth_n"):
        f["nth_weekday"] = f"{schedule['nth_n']},{schedule.get('nth_weekday', '')}"
        f.pop("month_day", None)
    f["timezone"] = schedule.get("timezone") or ""
    return f


def read(req: Request, max_chars: int, timezone: str) -> ComposeForm:
    """Parse and check the form; errors are keyed by input name."""
    form = req.form
    f = ComposeForm(
        title=form.get("title", "").strip(), source=form.get("source", "text"),
        text=form.get("text", ""), hamlets=form.getlist("hamlets"), speakers=form.getlist("speakers"),
        all_speakers=form.get("all_speakers") == "1", priority=form.get("priority", "normal"),
        when=form.get("when", "now"), emergency=form.get("emergency") == "1",
        schedule=read_schedule(form, timezone),
    )
    if len(f.title) > 200:
        f.errors["title"] = message("title_too_long")
    if f.source not in SOURCES:
        f.source = "text"
    if f.source == "text":
        if not f.text.strip():
            f.errors["text"] = message("text_empty")
        elif len(f.text.strip()) > max_chars:
            f.errors["text"] = message("text_too_long")
    elif not _has_file(req):
        f.errors["audio_file"] = message("source_required")
    if not f.targets:
        f.errors["targets"] = message("targets_required")
    if f.priority not in ("normal", "priority", "emergency"):
        f.errors["priority"] = message("bad_priority")
    if f.when not in ("now", "schedule"):
        f.errors["when"] = message("bad_when")
    if f.when == "schedule" and not f.emergency:
        _plan, errs = check_plan({**f.schedule_form(), "priority": f.priority})
        for key, msg in schedule_errors(errs).items():
            f.errors.setdefault(input_for(key), msg)
    return f


def input_for(key: str) -> str:
    """The page input that shows a schedules.forms field error."""
    # schedules.forms names the nth rule 'nth_weekday'; the page has two selects for it.
    return "nth_n" if key == "nth_weekday" else key


def _has_file(req: Request) -> bool:
    upload = req.files.get("audio_file")
    return bool(upload and upload.filename)
