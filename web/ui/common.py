"""Helpers shared by the UI views: the current user row, times, error messages, form tokens."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from controller.models import User
from controller.services import submissions
from controller.services.errors import ServiceError
from web.context import ctl

ALL = ("admin", "editor", "approver", "viewer")
EDITORS = ("admin", "editor", "approver")
APPROVERS = ("admin", "approver")

# Service error codes → what the user reads (the English msgid is translated by Babel).
MESSAGES = {
    "text_empty": _l("The announcement text is empty."),
    "text_required": _l("Type the announcement text."),
    "text_not_string": _l("Type the announcement text."),
    "text_too_long": _l("The announcement text is too long."),
    "targets_required": _l("Choose at least one hamlet or speaker."),
    "bad_targets": _l("Choose at least one hamlet or speaker."),
    "unknown_hamlet": _l("The chosen hamlet no longer exists."),
    "unknown_speaker": _l("The chosen speaker no longer exists."),
    "revoked_speaker": _l("The chosen speaker has been revoked."),
    "no_speakers": _l("There is no speaker in the chosen places."),
    "bad_priority": _l("Choose a priority."),
    "bad_when": _l("Choose when to broadcast."),
    "not_approved": _l("This announcement is not approved yet."),
    "already_approved": _l("This announcement is already approved."),
    "no_audio": _l("The announcement has no audio."),
    "forbidden_role": _l("Your role does not allow this."),
    "emergency_forbidden": _l("Only a leader (approver) or an admin may use emergency priority."),
    "approval_required": _l("This needs a leader's approval."),
    "admin_whole_commune": _l("An admin manages the whole commune and cannot be limited to hamlets."),
    "schedules_unavailable": _l("Schedules are not available yet in this version."),
    "source_required": _l("Type a text, upload a file or record audio."),
    "title_too_long": _l("The title is too long (at most 200 characters)."),
    "bad_volume": _l("The volume must be a whole number from 0 to 100."),
    "no_broker": _l("The controller is not connected to the speakers right now."),
    "bad_username": _l("The username must be 2-80 letters, digits or _ . @ -."),
    "user_exists": _l("This username is already taken."),
    "bad_role": _l("Choose a role."),
    "weak_password": _l("The password must have at least 8 characters."),
    "last_admin": _l("The last active admin must stay an active admin."),
    "bad_date": _l("Not a real date."),
    "end_before_start": _l("The end date is before the start date."),
    "bad_number": _l("Not a whole number."),
    "bad_choice": _l("Choose one of the listed values."),
    # audio.errors.AudioError codes
    "empty": _l("The audio file is empty."),
    "not_audio": _l("This file is not audio we can play."),
    "truncated": _l("The audio file is cut off (truncated)."),
    "too_large": _l("The audio file is too large."),
    "too_long": _l("The audio is too long."),
    "tts_failed": _l("Speech could not be made from this text; try again."),
    "decode_timeout": _l("Reading the audio file took too long."),
    "unknown_live": _l("This live session does not exist."),
}


def message(code: str, fallback: str = "") -> str:
    """The translated message for an error code."""
    msg = MESSAGES.get(code)
    return str(msg) if msg is not None else (fallback or code)


def error_of(exc: ServiceError) -> tuple[str, str]:
    """(field, message) for a service error; schedule errors carry their Vietnamese text."""
    sched_errors = exc.params.get("errors") if exc.params else None
    if sched_errors:
        return exc.field or "schedule", _schedule_message(sched_errors[0])
    if exc.code == "outside_areas":
        return exc.field or "targets", outside_areas(exc.params.get("hamlet", ""))
    return exc.field or "form", message(exc.code, exc.message)


def status_of(exc: ServiceError, default: int = 422) -> int:
    """The page status for a refused form: 403/404 stay what they are, other errors are 422."""
    return exc.status if exc.status in (403, 404) else default


def outside_areas(hamlet: str) -> str:
    """The sentence for a target outside the user's hamlets, naming it."""
    from flask_babel import gettext

    return gettext("%(hamlet)s is not one of your hamlets: you may only send to your own.",
                   hamlet=hamlet)


def schedule_errors(errors) -> dict[str, str]:
    """field → message for schedule FieldErrors (Vietnamese unless English is chosen)."""
    out: dict[str, str] = {}
    for e in errors:
        out.setdefault(e.field, _schedule_message(e))
    return out


def _schedule_message(e) -> str:
    from flask_babel import get_locale

    return e.message if str(get_locale()) == "en" else (e.message_vi or e.message)


def db_user() -> User:
    """The logged-in user's row (detached), fresh from the database."""
    with ctl().db.session() as s:
        user = s.get(User, current_user.id)
        if user is None or not user.active:
            abort(403)
        return user


def tz() -> ZoneInfo:
    """The commune's timezone."""
    return ZoneInfo(ctl().settings.timezone)


def localtime(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """Format an instant in the commune's timezone (Jinja filter)."""
    if value is None:
        return ""
    return value.astimezone(tz()).strftime(fmt)


def form_token() -> str:
    """A one-time token for a form (Jinja global)."""
    return submissions.new_token()


def repeat_submission():
    """If this POST's form token was already used, a redirect to the first result; else None.

    The view must call `finish_submission` (success) or `release_submission` (validation
    error) afterwards.
    """
    uid = current_user.id if current_user.is_authenticated else None
    token = request.form.get("form_token", "")
    seen = submissions.claim(ctl().db, token, uid)
    if seen is None:
        return None
    # The first request may still be rendering speech: wait for its result so the second
    # click lands on the same page instead of a half-answer.
    deadline = time.monotonic() + 60
    while seen is not None and not seen.result_url and time.monotonic() < deadline:
        time.sleep(0.25)
        seen = submissions.get(ctl().db, token)
    from flask import flash

    flash(_l("This form was already sent; it was processed once."), "ok")
    return redirect((seen.result_url if seen else None) or request.referrer or url_for("ui.index"))


def finish_submission(url: str):
    """Remember the result of this POST's token and redirect there."""
    with ctl().db.session() as s:
        submissions.finish(s, request.form.get("form_token", ""), url)
    return redirect(url)


def release_submission() -> None:
    """Let the token be used again (the form is shown again with errors)."""
    submissions.release(ctl().db, request.form.get("form_token", ""))
