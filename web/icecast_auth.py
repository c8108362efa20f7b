"""Icecast's listener authentication hook: may this speaker pull this mount with this token?

Icecast POSTs `action=listener_add&mount=/relay-12?spk=…&token=…&user=&pass=…` on every
listener connect and admits the listener only if the answer carries the header
`icecast-auth-user: 1`. No login, no CSRF (Icecast is the caller); any doubt or error
refuses. The token may also come as HTTP basic auth (user = speaker id, pass = token).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, request

from controller.services import streams
from controller.streams_server import LISTENER_AUTH_PATH
from web.auth import csrf
from web.context import ctl

log = logging.getLogger(__name__)
bp = Blueprint("icecast_auth", __name__)
csrf.exempt(bp)


def _credentials(form) -> tuple[str, str, str]:
    """(mount path, speaker id, token) from Icecast's POST."""
    parts = urlsplit(form.get("mount", ""))
    query = parse_qs(parts.query)
    speaker = (query.get("spk") or [""])[-1] or form.get("user", "")
    token = (query.get("token") or [""])[-1] or form.get("pass", "")
    return parts.path, speaker, token


@bp.post(LISTENER_AUTH_PATH)
def listener():
    """Answer Icecast: admit (icecast-auth-user: 1) or refuse, with a reason for its log."""
    if request.form.get("action") != "listener_add":
        return Response(status=200)  # listener_remove and friends: nothing to decide
    mount, speaker, token = "", "", ""
    try:
        mount, speaker, token = _credentials(request.form)
        with ctl().db.session() as s:
            ok = streams.check_listener(s, mount, speaker, token)
            left = streams.seconds_left(s, mount) if ok else None
            if ok:
                streams.note_listener(s, mount, speaker, request.form.get("client", ""))
    except Exception:
        log.exception("listener check for %s on %s failed; refused", speaker or "?", mount or "?")
        ok, left = False, None
    resp = Response(status=200)
    if ok:
        resp.headers["icecast-auth-user"] = "1"
        if left:  # Icecast drops the listener at the session's end, whatever the agent does
            resp.headers["icecast-auth-timelimit"] = str(left)
        return resp
    log.warning("listener refused: speaker %r on mount %r from %s", speaker, mount,
                request.form.get("ip", "?"))
    resp.headers["icecast-auth-message"] = "refused"
    return resp
