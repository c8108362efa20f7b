"""Serves published agent wheels to speakers at URLs that contain their SHA-256.

No login: a wheel of this open-source project is no secret, and the speaker trusts it
only through the signed `update` command that pins its hash.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, send_file

from web.context import ctl

bp = Blueprint("updates", __name__)
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^commune_radio-[A-Za-z0-9_.+-]+\.whl$")


@bp.get("/updates/<sha256>/<name>")
def wheel(sha256: str, name: str):
    """The wheel file of a published release (with Range, so downloads resume)."""
    if not SHA_RE.match(sha256) or not NAME_RE.match(name):
        abort(404)
    path = ctl().data / "updates" / sha256 / name
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/zip", conditional=True, max_age=86400)
