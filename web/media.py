"""Serves stored audio at URLs containing its hash, authorized per speaker by a signed link."""

from __future__ import annotations

import re

from flask import Blueprint, abort, request, send_file
from flask_login import current_user

from controller.models import Speaker
from web.context import ctl

bp = Blueprint("media", __name__)
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
# Preview links are signed for this subject; '~' cannot start a speaker id, so no speaker has it.
PREVIEW_SUBJECT = "~preview"
# Links in a group command are signed for `~group-<group id>` (controller.group_dispatch).
GROUP_SUBJECT = "~group-"


@bp.get("/media/<sha256>.mp3")
def audio(sha256: str):
    """The MP3 for a hash: for a speaker with a valid signed link, or a logged-in user."""
    if not SHA_RE.match(sha256):
        abort(404)
    store = ctl().store
    if not current_user.is_authenticated:
        reason = store.check_url(sha256, request.args.get("spk", ""), request.args.get("exp", ""),
                                 request.args.get("sig", ""))
        spk = request.args.get("spk", "")
        if (not reason and spk != PREVIEW_SUBJECT and not spk.startswith(GROUP_SUBJECT)
                and not _speaker_active(spk)):
            reason = "speaker revoked"  # its links die with its broker account
        if reason:
            abort(403, description=reason)
    elif not _user_may_hear(sha256):
        abort(404)  # another hamlet's announcement, for a user limited to his hamlets
    path = store.path_for(sha256)
    if not path.exists():
        abort(404)
    # conditional=True gives Range support, so agents can resume interrupted downloads.
    resp = send_file(path, mimetype="audio/mpeg", conditional=True, max_age=86400)
    # private: a shared cache (a proxy at the commune office) must not keep serving the
    # file to a speaker after it is revoked; only the agent's own cache may keep it.
    resp.cache_control.public = False
    resp.cache_control.private = True
    return resp


def _user_may_hear(sha256: str) -> bool:
    from controller.services import approvals

    with ctl().db.session() as s:
        return approvals.audio_visible(s, sha256, current_user)


def _speaker_active(speaker_id: str) -> bool:
    with ctl().db.session() as s:
        spk = s.get(Speaker, speaker_id)
        return spk is not None and spk.revoked_at is None
