"""Bulletins down from the province: receive, cancel, reschedule; answers in its envelope.

The province authenticates with the bearer token in [province] inbound_token. Every answer is
{TrangThaiGui, MoTa, NoiDung}: 0 done, 1 not authenticated, 2 bad input, 3 refused by the
commune's policy, 4 unknown or cancelled bulletin, 5 the link is off here.
"""

from __future__ import annotations

import hmac
import json
import logging

from flask import Blueprint, Response, request

from controller.province import bulletins
from web.auth import csrf
from web.context import ctl

log = logging.getLogger(__name__)
bp = Blueprint("province_api", __name__, url_prefix="/province/v1")
csrf.exempt(bp)  # the province's bearer token, not cookies
HTTP_FOR = {1: 401, 2: 400, 3: 409, 4: 404, 5: 404}


def _answer(code: int, message: str, content=None):
    env = ctl().province.mapping.fields("envelope") if ctl().province else {
        "status": "TrangThaiGui", "message": "MoTa", "content": "NoiDung"}
    body = {env["status"]: code, env["message"]: message, env["content"]: content}
    # Vietnamese left readable in MoTa (jsonify would escape every diacritic).
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json",
                    status=200 if code == 0 else HTTP_FOR.get(code, 400))


def _run(operation):
    link = ctl().province
    if link is None:
        return _answer(5, "Kết nối tỉnh chưa được bật ở xã này")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), link.settings.inbound_token.encode()):
        return _answer(1, "Sai hoặc thiếu mã xác thực")
    body = request.get_json(silent=True)
    if body is None:
        return _answer(2, "Dữ liệu không phải JSON hợp lệ")
    try:
        out = operation(ctl(), body)
    except bulletins.BulletinError as exc:
        log.info("province bulletin refused: %s", exc.message_vi)
        return _answer(exc.code, exc.message_vi)
    return _answer(0, out.message_vi, out.content)


@bp.post("/ban-tin")
def receive_bulletin():
    """A new bulletin from the province (operation: receive)."""
    return _run(bulletins.receive)


@bp.post("/ban-tin/huy")
def cancel_bulletin():
    """Cancel a bulletin received before."""
    return _run(bulletins.cancel)


@bp.post("/ban-tin/doi-lich")
def reschedule_bulletin():
    """Give a bulletin received before a new LichPhat."""
    return _run(bulletins.reschedule)
