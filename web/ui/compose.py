"""Compose: text (with live spoken-text and audio preview), upload or browser recording;
targets; now or a schedule with its summary and conflicts; priority; emergency send."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from flask import jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from audio.errors import AudioError
from controller import speech
from controller.services import access, announcements, approvals, registry, rendering
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp, compose_form
from web.ui.common import (
    APPROVERS,
    EDITORS,
    db_user,
    error_of,
    finish_submission,
    message,
    release_submission,
    repeat_submission,
    schedule_errors,
    status_of,
)

# Used when no audio preview was made yet: a brisk Vietnamese announcer reads ~14 characters/s.
CHARS_PER_SECOND = 14
MAX_SHOWN = 5


def _page(form: compose_form.ComposeForm | None = None, status: int = 200):
    with ctl().db.session() as s:
        hamlets = registry.list_hamlets(s, current_user)
        speakers = registry.list_speakers(s, user=current_user)
        return render_template("compose.html", form=form or compose_form.ComposeForm(),
                               hamlets=hamlets, speakers=speakers,
                               max_chars=ctl().settings.max_text_chars), status


@bp.get("/compose")
@roles_required(*EDITORS)
def compose():
    """The empty compose form (`?when=schedule`: with the schedule open, from the calendar)."""
    when = "schedule" if request.args.get("when") == "schedule" else "now"
    return _page(compose_form.ComposeForm(when=when))


@bp.post("/compose")
@roles_required(*EDITORS)
def compose_submit():
    """Save a draft for approval, or (approvers) send an emergency at once."""
    again = repeat_submission()
    if again is not None:
        return again
    form = compose_form.read(request, ctl().settings.max_text_chars, ctl().settings.timezone)
    status = 422
    user = db_user()
    if form.emergency and user.role not in APPROVERS:
        form.errors["emergency"] = message("forbidden_role")
    if form.errors:
        release_submission()
        return _page(form, 422)
    later = False
    try:
        with ctl().db.session() as s:
            approvals.check_compose(
                s, targets=form.targets, priority=form.priority, when=form.when,
                schedule_form=form.schedule_form() if form.when == "schedule" else None,
                emergency=form.emergency, user=s.merge(user))
        # An emergency typed as text is stored at once and spoken on the render pool; its
        # page shows it `rendering` until the speech is ready (controller/services/rendering.py).
        later = form.emergency and form.source == "text" and ctl().renders is not None
        rendered, text, source = _render_later(form) if later else _render(form)
        with ctl().db.session() as s:
            user = s.merge(user)
            if form.emergency:
                bid = approvals.send_emergency(s, ctl(), title=form.title, text=text, rendered=rendered,
                                               source=source, targets=form.targets, user=user)
                target = url_for("ui.broadcast", broadcast_id=bid, sent=1)
            else:
                req = approvals.create_draft(
                    s, ctl(), title=form.title, text=text, rendered=rendered, source=source,
                    targets=form.targets, priority=form.priority, when=form.when,
                    schedule_form=form.schedule_form() if form.when == "schedule" else None, user=user)
                target = url_for("ui.announcement", announcement_id=req.announcement_id, saved=1)
    except AudioError as exc:
        form.errors["text" if form.source == "text" else "audio_file"] = message(exc.code, str(exc))
    except ServiceError as exc:
        field, msg = error_of(exc)
        form.errors[field] = msg
        status = status_of(exc)
    if form.errors:
        release_submission()
        return _page(form, status)
    if later:
        rendering.start(ctl(), bid, text, abbreviations_now(), urgent=True)
    elif form.emergency:
        ctl().kick()
    return finish_submission(target)


def abbreviations_now():
    """The abbreviation dictionary as stored now."""
    with ctl().db.session() as s:
        return announcements.abbreviations(s)


def _render_later(form: compose_form.ComposeForm):
    """(None, checked text, "tts"): the text is spoken after the broadcast is stored."""
    text = announcements.check_text(form.text, ctl().settings.max_text_chars)
    speech.check_speakable(ctl(), text, abbreviations_now())
    return None, text, "tts"


def _render(form: compose_form.ComposeForm):
    """(rendered audio, text or None, source) from the chosen source."""
    ctx = ctl()
    if form.source == "text":
        text = announcements.check_text(form.text, ctx.settings.max_text_chars)
        with ctx.db.session() as s:
            abbreviations = announcements.abbreviations(s)
        # An emergency never waits on the network (audio.engines.chain.synthesize_urgent).
        urgent = form.emergency or form.priority == "emergency"
        return speech.render_text(ctx, text, abbreviations, urgent=urgent), text, "tts"
    return _render_upload(request.files["audio_file"]), None, form.source


def _render_upload(upload):
    """Master an uploaded or recorded file; the client's filename is never used as a path."""
    from audio.render import render_upload
    from audio.settings import UploadLimits

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "upload.bin"
        upload.save(src)
        return render_upload(src, speech.master_settings(ctl().settings), UploadLimits(),
                             ctl().cache_dir)


def _json_text():
    body = request.get_json(silent=True)
    return body.get("text") if isinstance(body, dict) else None


@bp.post("/compose/preview.json")
@roles_required(*EDITORS)
def preview_text():
    """The normalized spoken text for what is typed (cheap; called as the user types)."""
    from audio.normalize import normalize

    text = _json_text() or ""
    text = text[: ctl().settings.max_text_chars]
    with ctl().db.session() as s:
        abbreviations = announcements.abbreviations(s)
    spoken = normalize(text, dialect=ctl().settings.dialect, abbreviations=abbreviations)
    return jsonify(spoken_text=" ".join(spoken.split()))


@bp.post("/compose/audio.json")
@roles_required(*EDITORS)
def preview_audio():
    """Speak the text now and return a URL the page's audio player can play."""
    text = _json_text()
    try:
        text = announcements.check_text(text, ctl().settings.max_text_chars)
        with ctl().db.session() as s:
            abbreviations = announcements.abbreviations(s)
        rendered = speech.render_text(ctl(), text, abbreviations)
    except ServiceError as exc:
        return jsonify(error=exc.code, message=message(exc.code, exc.message)), 400
    except AudioError as exc:
        return jsonify(error=exc.code, message=message(exc.code, str(exc))), 400
    sha, _size = ctl().store.put(Path(rendered.mp3_path))
    return jsonify(url=url_for("media.audio", sha256=sha), duration_ms=rendered.duration_ms,
                   engine=rendered.engine, spoken_text=rendered.spoken_text)


@bp.post("/compose/schedule.json")
@roles_required(*EDITORS)
def preview_schedule():
    """The plain-language summary of the schedule form, its field errors and its conflicts."""
    from schedules.forms import check_plan
    from schedules.manage import conflicts_for
    from schedules.summary import summarize_en, summarize_vi

    form = compose_form.read(request, ctl().settings.max_text_chars, ctl().settings.timezone)
    now = datetime.now(UTC)
    plan, errs = check_plan({**form.schedule_form(), "priority": form.priority}, now_utc=now)
    if plan is None:
        return jsonify(summary=None, errors=schedule_errors(errs), conflicts=[])
    english = str(get_locale()) == "en"
    summary = summarize_en(plan.recurrence) if english else summarize_vi(plan.recurrence)
    conflicts = []
    if form.targets:
        duration_s = request.form.get("duration_ms", type=float)
        duration_s = duration_s / 1000 if duration_s else len(form.text) / CHARS_PER_SECOND
        draft = SimpleNamespace(title=form.title or "(mới)", airtime_s=max(1.0, duration_s))
        try:
            with ctl().db.session() as s:
                ids = frozenset(x.id for x in access.resolve_targets(s, current_user, form.targets))
                found = conflicts_for(s, ctl(), plan, ids, draft, now)
            conflicts = [c["message"] if english else c["message_vi"] for c in found[:MAX_SHOWN]]
            if len(found) > MAX_SHOWN:
                conflicts.append(_("and %(n)s more overlaps", n=len(found) - MAX_SHOWN))
        except ServiceError as exc:
            if exc.status == 403:  # outside the user's hamlets: say so, show nothing of them
                return jsonify(error=exc.code, message=error_of(exc)[1]), 403
            conflicts = []
    return jsonify(summary=summary, errors={}, conflicts=conflicts)
