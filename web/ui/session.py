"""Log in and out, language choice, idle timeout, and the error pages."""

from __future__ import annotations

import time
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, NotFound

from controller.models import User
from controller.services import audit, users
from controller.services.errors import Forbidden as Refused
from controller.services.errors import NotFound as MissingThing
from web.auth import SESSION_GENERATION, SessionUser
from web.context import ctl
from web.i18n import LANGUAGES
from web.ui import bp
from web.ui.common import localtime

IDLE_MINUTES_DEFAULT = 30


def authenticate(username: str, password: str, ip: str | None) -> tuple[User | None, str | None]:
    """(user, None) or (None, error code), via the security service when it is present."""
    try:
        from controller.services import logins
    except ImportError:
        logins = None
    with ctl().db.session() as s:
        if logins is not None:
            user, err = logins.authenticate(s, username, password, ip)
            return user, err
        user = s.scalar(sa.select(User).where(User.username == username))
        ok = user is not None and user.active and users.verify_password(user, password)
        audit.record(s, "login" if ok else "login_failed", actor=username or None, ip=ip)
        return (user, None) if ok else (None, "bad_credentials")


LOGIN_ERRORS = {
    "bad_credentials": _l("Wrong username or password."),
    "inactive": _l("This account is disabled. Ask an administrator."),
}


def login_error(code) -> str:
    """The translated sentence for a refusal (a locked account says for how long)."""
    if code == "locked":
        return _("Too many failed attempts: this account is locked. Try again in %(minutes)s minutes.",
                 minutes=getattr(code, "minutes", 0) or 15)
    return str(LOGIN_ERRORS.get(str(code), LOGIN_ERRORS["bad_credentials"]))


def _safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the home page (no open redirect).

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, and Werkzeug
    decodes `%09` before we see the string, so `/%09/evil.example` reached the browser as
    `//evil.example`. Judge the target the way a browser will read it: printable ASCII only,
    no backslash, one leading slash, no scheme and no host, also once percent-decoded.
    """
    home = url_for("ui.index")
    if not target or not all(" " < ch <= "~" for ch in target) or "\\" in target:
        return home
    for form in (target, unquote(target)):
        parts = urlsplit(form.replace("\\", "/"))
        if parts.scheme or parts.netloc or not form.startswith("/") or form[1:2] in ("/", "\\"):
            return home
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Username and password form."""
    error = None
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        user, code = authenticate(name, request.form.get("password", ""), request.remote_addr)
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on login (no fixation)
            if lang:
                session["lang"] = lang
            session.permanent = True
            login_user(SessionUser(user))
            session[SESSION_GENERATION] = user.session_generation
            session["seen"] = time.time()
            return redirect(_safe_next(request.args.get("next")))
        error = login_error(code)
    return render_template("login.html", error=error,
                           username=request.form.get("username", "")), 401 if error else 200


@bp.post("/logout")
def logout():
    """End the session, and every copy of its cookie: the user's session generation moves on."""
    if current_user.is_authenticated:
        with ctl().db.session() as s:
            user = s.get(User, current_user.id)
            if user is not None:
                users.end_sessions(user)
                audit.record(s, "logout", actor=user.username, ip=request.remote_addr)
    logout_user()
    session.pop("seen", None)
    session.pop(SESSION_GENERATION, None)
    return redirect(url_for("ui.login"))


@bp.post("/lang")
def set_language():
    """Switch between Vietnamese and English."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.before_app_request
def idle_timeout():
    """Log out a session idle for longer than SESSION_IDLE_MINUTES (default 30)."""
    if request.blueprint not in ("ui", "media") or not current_user.is_authenticated:
        return None
    limit = 60 * float(ctl_config("SESSION_IDLE_MINUTES", IDLE_MINUTES_DEFAULT))
    now = time.time()
    seen = session.get("seen", now)
    if now - seen > limit:
        logout_user()
        session.pop("seen", None)
        flash(_("Your session has expired. Please log in again; your draft is kept on this device."),
              "error")
        if request.path.endswith(".json"):
            return {"error": "session_expired"}, 401
        return redirect(url_for("ui.login", next=request.full_path if request.method == "GET"
                                else request.path))
    # Polling JSON does not count as activity, or the fleet page would never time out.
    if not request.path.endswith(".json"):
        session["seen"] = now
    return None


def ctl_config(key: str, default):
    """An app config value (tests shorten the idle timeout)."""
    from flask import current_app

    return current_app.config.get(key, default)


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    """A form without a valid token: usually an expired session; say so and keep the draft."""
    return render_template("error.html", code=400,
                           message=_("The form expired or was not sent from this site. "
                                     "Log in again and resend it; your draft is kept on this device."),
                           login=True), 400


@bp.app_errorhandler(403)
def forbidden(exc: Forbidden):
    """The user's role does not allow this page."""
    if request.blueprint == "api":
        return {"error": "forbidden", "message": exc.description}, 403
    return render_template("error.html", code=403,
                           message=_("Your role does not allow this page.")), 403


@bp.app_errorhandler(404)
def not_found(exc: NotFound):
    """Unknown page."""
    if request.path.startswith("/api/"):
        return {"error": "not_found", "message": exc.description}, 404
    return render_template("error.html", code=404, message=_("This page does not exist.")), 404


@bp.app_errorhandler(Refused)
def refused(exc: Refused):
    """A service refusal (role, hamlet) that a page did not turn into a form error: a 403."""
    from web.ui.common import error_of

    if request.path.startswith("/api/"):
        return exc.to_dict(), 403
    return render_template("error.html", code=403, message=error_of(exc)[1]), 403


@bp.app_errorhandler(MissingThing)
def missing_thing(exc: MissingThing):
    """A page or form about something that does not exist (a service NotFound): a 404, not a crash."""
    if request.path.startswith("/api/"):
        return exc.to_dict(), 404
    return render_template("error.html", code=404, message=_("This page does not exist.")), 404


@bp.app_template_filter("localtime")
def _localtime_filter(value, fmt: str = "%d/%m/%Y %H:%M"):
    return localtime(value, fmt)
