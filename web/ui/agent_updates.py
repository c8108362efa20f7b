"""Agent updates on the fleet page (admins): publish a wheel and target a hamlet or the whole commune."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from controller.services import agent_updates
from controller.services.agent_updates import UpdateError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import db_user, finish_submission, release_submission, repeat_submission

ALL_SPEAKERS = "*"
ERRORS = {
    "not_wheel": _l("The file %(name)s is not a commune-radio installation package (.whl)."),
    "metadata": _l("The information inside %(name)s does not match its file name."),
    "version": _l("Version %(version)s is not valid (it must look like 1.2.3)."),
    "no_agent": _l("The package %(name)s holds no speaker software."),
    "republished": _l("Version %(version)s was already published with another package; "
                      "give the new package a new version."),
    "unpublished": _l("Version %(version)s has not been published."),
    "no_scope": _l("Choose a hamlet or the whole commune."),
    "no_hamlet": _l("There is no hamlet named %(name)s."),
    "no_speaker": _l("There is no speaker %(name)s."),
}


def error_text(exc: UpdateError) -> str:
    """The Vietnamese text of an update error."""
    return str(ERRORS[exc.code] % exc.params) if exc.code in ERRORS else str(exc)


@bp.post("/fleet/updates")
@roles_required("admin")
def update_publish():
    """Publish an uploaded wheel (or pick a published version) and target a hamlet or everyone."""
    again = repeat_submission()
    if again is not None:
        return again
    upload = request.files.get("wheel")
    scope = request.form.get("scope", "")
    version = request.form.get("version", "")
    user = db_user().username
    try:
        with ctl().db.session() as s:
            if upload is not None and upload.filename:
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / secure_filename(upload.filename)
                    upload.save(path)
                    version = agent_updates.publish(s, ctl().data, path, actor=user).version
            if not version:
                raise UpdateError("no version", "unpublished", version="—")
            agent_updates.set_target(s, version, hamlets=[scope] if scope and scope != ALL_SPEAKERS else [],
                                     everyone=scope == ALL_SPEAKERS, actor=user)
    except UpdateError as exc:
        release_submission()
        flash(error_text(exc), "error")
        return redirect(url_for("ui.fleet") + "#agent-updates")
    where = _("the whole commune") if scope == ALL_SPEAKERS else scope
    flash(_("Version %(version)s will be installed on: %(where)s.", version=version, where=where), "ok")
    return finish_submission(url_for("ui.fleet") + "#agent-updates")
