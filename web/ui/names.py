"""Translated names of roles, states, priorities and schedule kinds, for templates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLES = {
    "admin": _l("Administrator"), "editor": _l("Editor"),
    "approver": _l("Leader (approver)"), "viewer": _l("Log reviewer"),
    "alert-source": _l("Warning source (API only)"),
}
STATES = {
    "rendering": _l("Preparing the speech"),
    "queued": _l("Queued"), "sent": _l("Sent"), "received": _l("Received by speaker"),
    "downloaded": _l("Audio downloaded"), "playing": _l("Playing"), "played": _l("Played"),
    "failed": _l("Failed"), "expired": _l("Expired"), "preempted": _l("Interrupted by a higher priority"),
    "rejected": _l("Rejected"), "stopped": _l("Stopped"), "unconfirmed": _l("Not confirmed"),
    "missed": _l("Missed"), "cancelled": _l("Cancelled"), "planned": _l("Planned"),
    "dispatched": _l("Sent to speakers"), "draft": _l("Draft"), "approved": _l("Approved"),
    "pending": _l("Waiting for approval"), "done": _l("Done"),
    # stream sessions (relay, live) on one speaker, and why they stopped there
    "stream_playing": _l("Playing the stream"), "stream_stalled": _l("Stream interrupted"),
    "stream_stopped": _l("Stream stopped"), "ended": _l("Ended"), "stop_sent": _l("Stop sent"),
}
PRIORITIES = {"normal": _l("Normal"), "priority": _l("Priority"), "emergency": _l("Emergency")}
KINDS = {
    "once": _l("Once"), "daily": _l("Every day"), "weekly": _l("Every week"),
    "monthly": _l("Every month"), "dates": _l("On chosen dates"), "cron": _l("Cron expression (advanced)"),
}
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))
ENGINES = {  # how the audio was made, in a clerk's words
    "gtts": _l("Google voice (online)"), "espeak": _l("Machine voice (offline)"),
    "piper": _l("Piper voice (offline)"), "upload": _l("Uploaded file"), "tone": _l("Test tone"),
}
FLAGS = {"stale": _l("No recent status"), "clock": _l("Clock is off"), "error": _l("Reported an error")}


def _name(table: dict, key) -> str:
    value = table.get(key)
    return str(value) if value is not None else str(key or "")


def context() -> dict:
    """Template helpers."""
    from flask_babel import get_locale

    from web.ui.common import form_token

    return {
        "get_locale": get_locale,
        "role_name": lambda k: _name(ROLES, k), "state_name": lambda k: _name(STATES, k),
        "priority_name": lambda k: _name(PRIORITIES, k), "kind_name": lambda k: _name(KINDS, k),
        "flag_name": lambda k: _name(FLAGS, k), "engine_name": lambda k: _name(ENGINES, k),
        "weekday_names": WEEKDAYS, "kinds": KINDS,
        "priorities": PRIORITIES, "form_token": form_token,
    }
