"""Login (Flask-Login, sessions), CSRF (Flask-WTF) and bearer tokens for the API."""

from __future__ import annotations

import functools

from flask import Flask, abort, g, jsonify, request, session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from controller.models import User
from controller.services import users
from web.context import ctl

login_manager = LoginManager()
csrf = CSRFProtect()


class SessionUser:
    """Flask-Login wrapper around a detached User row."""

    def __init__(self, user: User):
        self.user = user
        self.id = user.id
        self.username = user.username
        self.role = user.role
        self.areas = list(user.areas or [])
        self.is_authenticated = True
        self.is_active = user.active
        self.is_anonymous = False

    def get_id(self) -> str:
        """Session identifier."""
        return str(self.user.id)


def init(app: Flask) -> None:
    """Wire Flask-Login and CSRF protection."""
    login_manager.init_app(app)
    login_manager.login_view = "ui.login"
    login_manager.login_message = "Vui lòng đăng nhập."
    csrf.init_app(app)

    @login_manager.user_loader
    def _load(user_id: str):
        # Checked on every request: a cookie copied before a logout, a password or role change
        # or a disable carries an old generation and no longer logs anyone in.
        if not user_id.isdigit():
            return None
        with ctl().db.session() as s:
            user = users.session_valid(s, int(user_id), session.get(SESSION_GENERATION))
            return SessionUser(user) if user else None


SESSION_GENERATION = "gen"
"""Session key holding the user's session generation at login."""


def roles_required(*roles: str):
    """UI views: logged in with one of the roles, else login redirect or 403."""

    def deco(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return deco


def api_auth(*roles: str):
    """API views: a valid bearer token of a user with one of the roles."""

    def deco(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            with ctl().db.session() as s:
                user = users.user_for_token(s, token)
            if user is None:
                resp = jsonify(error="unauthorized", message="missing or invalid bearer token")
                resp.status_code = 401
                resp.headers["WWW-Authenticate"] = 'Bearer realm="commune-radio"'
                return resp
            if roles and user.role not in roles:
                return jsonify(error="forbidden",
                               message=f"role {user.role!r} may not do this"), 403
            g.api_user = user
            return view(*args, **kwargs)

        return wrapper

    return deco
