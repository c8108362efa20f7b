"""The minimal Vietnamese web page: log in, see speakers and broadcasts, send a text now."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from controller.models import User
from controller.services import audit, broadcasts, registry, sending, users
from controller.services.errors import ServiceError
from web.auth import SessionUser, roles_required
from web.context import ctl

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
ALL = ("admin", "editor", "approver", "viewer")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Username and password form."""
    error = None
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        with ctl().db.session() as s:
            user = s.scalar(sa.select(User).where(User.username == name))
            ok = user is not None and user.active and users.verify_password(
                user, request.form.get("password", ""))
            audit.record(s, "login" if ok else "login_failed", actor=name or None,
                         ip=request.remote_addr)
        if ok:
            login_user(SessionUser(user))
            return redirect(url_for("ui.index"))
        error = "Sai tên đăng nhập hoặc mật khẩu."
    return render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    """End the session."""
    logout_user()
    return redirect(url_for("ui.login"))


@bp.get("/")
@roles_required(*ALL)
def index():
    """Speakers with presence and the latest broadcasts."""
    with ctl().db.session() as s:
        speakers = registry.list_speakers(s)
        hamlets = registry.list_hamlets(s)
        recent = broadcasts.recent(s, 10)
        details = [broadcasts.get(s, b.id) for b in recent]
        return render_template("index.html", speakers=speakers, hamlets=hamlets,
                               broadcasts=details)


@bp.post("/send")
@roles_required("admin", "approver")
def send():
    """Send a text announcement now."""
    hamlet_names = request.form.getlist("hamlets")
    targets = {"hamlets": hamlet_names} if hamlet_names else {"all": True}
    with ctl().db.session() as s:
        user = s.get(User, current_user.id)
    try:
        bid = sending.send_text_now(ctl(), text=request.form.get("text"), targets=targets,
                                    user=user, title=request.form.get("title") or None)
    except ServiceError as exc:
        flash(MESSAGES_VI.get(exc.code, exc.message), "error")
        return redirect(url_for("ui.index"))
    flash(f"Đã gửi bản tin #{bid}.", "ok")
    return redirect(url_for("ui.index"))


MESSAGES_VI = {
    "text_empty": "Nội dung bản tin đang trống.",
    "text_required": "Chưa nhập nội dung bản tin.",
    "text_too_long": "Nội dung bản tin quá dài.",
    "unknown_hamlet": "Không tìm thấy ấp đã chọn.",
    "no_speakers": "Không có loa nào trong phạm vi đã chọn.",
}
