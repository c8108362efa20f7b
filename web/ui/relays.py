"""Tiếp sóng pages: upstream sources (add, listen) and relays (start now, watch, stop)."""

from __future__ import annotations

from flask import Response, abort, flash, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from controller import relay_pipeline
from controller.services import registry, relay_view, relays, sources
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import (
    ALL,
    APPROVERS,
    EDITORS,
    db_user,
    error_of,
    finish_submission,
    release_submission,
    repeat_submission,
    status_of,
)

DURATIONS_MIN = (15, 30, 45, 60, 90, 120, 180)
MESSAGES = {  # service error codes of sources and relays → what the clerk reads
    "source_unreachable": _l("The station does not answer at this address."),
    "source_not_audio": _l("This address answers, but it is not an audio stream."),
    "source_unsupported_codec": _l("This stream is not MP3, AAC or Opus."),
    "source_exists": _l("A station with this name already exists."),
    "name_required": _l("Type the station's name."),
    "name_too_long": _l("The name is too long (at most 120 characters)."),
    "url_required": _l("Type the stream's address."),
    "bad_url": _l("The address must start with http:// or https://."),
    "source_not_loopback": _l("This controller accepts only stations on this machine."),
    "unknown_source": _l("The chosen station no longer exists."),
    "relay_not_running": _l("This relay is no longer on air."),
    "bad_duration": _l("Choose a duration."),
}
STATES = {  # relay and per-speaker stream states, as the clerk reads them
    "running": _l("On air"), "ended": _l("Ended"), "stopped": _l("Stopped"),
    "failed": _l("Failed"), "queued": _l("Queued"), "sent": _l("Sent"),
    "stream_playing": _l("Playing"), "stream_stalled": _l("Stalled (no sound)"),
    "stream_stopped": _l("Stopped"), "missed": _l("Missed"), "cancelled": _l("Cancelled"),
}


def _sources_page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    with ctl().db.session() as s:
        items = [sources.to_dict(x) for x in sources.list_sources(s)]
    return render_template("sources.html", sources=items, errors=errors or {},
                           typed=typed or {}), status


@bp.get("/sources")
@roles_required(*ALL)
def sources_page():
    """Nguồn tiếp sóng: the registered stations, a listen button each, and the add form."""
    return _sources_page()


@bp.post("/sources")
@roles_required(*EDITORS)
def sources_add():
    """Register a station (probed first; 'save anyway' keeps one that does not answer)."""
    again = repeat_submission()
    if again is not None:
        return again
    typed = {k: request.form.get(k, "").strip() for k in ("name", "url", "backup_url")}
    try:
        sources.register(ctl(), name=typed["name"], url=typed["url"],
                         backup_url=typed["backup_url"] or None,
                         force=request.form.get("force") == "1", user=db_user())
    except ServiceError as exc:
        release_submission()
        field, msg = _error(exc)
        if exc.code in ("source_unreachable", "source_not_audio", "source_unsupported_codec"):
            msg = _("%(problem)s Not saved; tick \"Save anyway\" to keep it. (%(detail)s)",
                    problem=msg, detail=exc.message.split(";")[0])
        return _sources_page({field: msg}, typed, 422)
    flash(_("Source %(name)s was saved.", name=typed["name"]), "ok")
    return finish_submission(url_for("ui.sources_page"))


@bp.get("/sources/<int:source_id>/preview")
@roles_required(*ALL)
def sources_preview(source_id: int):
    """A 20-second MP3 of the station, pulled now by the controller (the "listen" button)."""
    with ctl().db.session() as s:
        try:
            url = sources.get(s, source_id).url
        except ServiceError:
            abort(404)
    return Response(stream_with_context(relay_pipeline.preview(url)), mimetype="audio/mpeg",
                    headers={"Cache-Control": "no-store"})


def visible_relays(s, user, limit: int = 20) -> list[dict]:
    """Running, then recent relays that air in the user's hamlets, with only his speakers' rows."""
    return [{**relay_view.detail(s, r, user), "starts": r.starts_at, "ends": r.ended_at or r.until,
             "gap_rows": [(g.started_at, g.ended_at, g.reason)
                          for g in (r.session.gaps if r.session else [])]}
            for r in relays.recent(s, limit, user)]


def _relays_page(errors: dict | None = None, typed: dict | None = None, status: int = 200,
                 schedule_form=None):
    from web.ui.relay_schedule_form import DURATIONS_MIN as SCHEDULE_MIN
    from web.ui.relay_schedule_form import RelayScheduleForm, scheduled

    with ctl().db.session() as s:
        srcs = [sources.to_dict(x) for x in sources.list_sources(s)]
        hamlets = [h.name for h in registry.list_hamlets(s, current_user)]
        speakers = [(spk.id, spk.name or spk.id, spk.hamlet.name)
                    for spk in registry.list_speakers(s, user=current_user)]
        items = visible_relays(s, current_user)
        planned = scheduled(s, current_user)
    return render_template("relays.html", sources=srcs, hamlets=hamlets, speakers=speakers,
                           relays=items, durations=DURATIONS_MIN, states=STATES,
                           errors=errors or {}, typed=typed or {}, scheduled=planned,
                           sform=schedule_form or RelayScheduleForm(),
                           schedule_durations=SCHEDULE_MIN, relay_form=True), status


@bp.get("/relays")
@roles_required(*ALL)
def relays_page():
    """Tiếp sóng: start a relay now, schedule one, the scheduled ones, running and recent relays."""
    return _relays_page()


@bp.post("/relays")
@roles_required(*APPROVERS)
def relays_start():
    """Start a relay now to the chosen hamlets for the chosen number of minutes."""
    again = repeat_submission()
    if again is not None:
        return again
    form = request.form
    typed = {"source_id": form.get("source_id", ""), "hamlets": form.getlist("hamlets"),
             "minutes": form.get("minutes", "")}
    targets = {"all": True} if form.get("all_speakers") == "1" else {"hamlets": typed["hamlets"]}
    try:
        minutes = int(typed["minutes"])
        source_id = int(typed["source_id"])
    except ValueError:
        release_submission()
        return _relays_page({"form": _("Choose a source and a duration.")}, typed, 422)
    if not targets.get("all") and not typed["hamlets"]:
        release_submission()
        return _relays_page({"targets": _("Choose at least one hamlet or speaker.")}, typed, 422)
    try:
        rid = relays.start_now(ctl(), source_id=source_id, targets=targets,
                               duration_s=minutes * 60, user=db_user())
    except ServiceError as exc:
        release_submission()
        field, msg = _error(exc)
        if exc.code == "relay_conflict":
            msg = _("Speaker %(speaker)s is already relaying %(title)s until %(until)s.",
                    speaker=exc.params["speaker"], title=exc.params["title"],
                    until=exc.params["until"].astimezone(_tz()).strftime("%H:%M"))
        return _relays_page({field: msg}, typed, status_of(exc))
    flash(_("Relay %(id)s started.", id=rid), "ok")
    return finish_submission(url_for("ui.relays_page"))


@bp.post("/relays/<int:relay_id>/stop")
@roles_required(*APPROVERS)
def relays_stop(relay_id: int):
    """Stop a running relay now."""
    again = repeat_submission()
    if again is not None:
        return again
    try:
        relays.stop(ctl(), relay_id, db_user())
    except ServiceError as exc:
        release_submission()
        return _relays_page({"form": _error(exc)[1]}, None, status_of(exc, 409))
    flash(_("Relay %(id)s stopped.", id=relay_id), "ok")
    return finish_submission(url_for("ui.relays_page"))


def _error(exc: ServiceError) -> tuple[str, str]:
    """(field, message) in the clerk's language."""
    field, msg = error_of(exc)
    if exc.code in MESSAGES:
        msg = str(MESSAGES[exc.code])
    return field, msg


def _tz():
    from web.ui.common import tz

    return tz()
