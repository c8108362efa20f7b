"""Users admin (admins only): add, change role, disable, set password. Every change is audited."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _

from controller.services import accounts, registry, users
from controller.services.errors import ServiceError
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import (
    db_user,
    error_of,
    finish_submission,
    release_submission,
    repeat_submission,
)


def _page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    with ctl().db.session() as s:
        return render_template("users.html", users=accounts.list_users(s), roles=users.ROLES,
                               hamlets=registry.list_hamlets(s), errors=errors or {},
                               typed=typed or {}), status


def _areas() -> list[int]:
    """The hamlet ids ticked in the form (none: the whole commune)."""
    return [int(x) for x in request.form.getlist("areas") if x.isdigit()]


@bp.get("/users")
@roles_required("admin")
def users_page():
    """Every user with role and state, and the add form."""
    return _page()


@bp.post("/users")
@roles_required("admin")
def users_add():
    """Create a user."""
    again = repeat_submission()
    if again is not None:
        return again
    typed = {"username": request.form.get("username", "").strip(), "role": request.form.get("role", "")}
    try:
        with ctl().db.session() as s:
            users.add_user(s, typed["username"], typed["role"], request.form.get("password") or None,
                           actor=db_user().username, areas=_areas())
    except ServiceError as exc:
        release_submission()
        field, msg = error_of(exc)
        return _page({field: msg}, typed, 422)
    flash(_("User %(name)s was created.", name=typed["username"]), "ok")
    return finish_submission(url_for("ui.users_page"))


@bp.post("/users/<int:user_id>")
@roles_required("admin")
def users_update(user_id: int):
    """Change role and active flag, or set a password."""
    again = repeat_submission()
    if again is not None:
        return again
    actor = db_user()
    try:
        with ctl().db.session() as s:
            if request.form.get("password"):
                u = accounts.set_password(s, user_id, request.form["password"], actor=actor)
            else:
                u = accounts.update(s, user_id, role=request.form.get("role", ""),
                                    active=request.form.get("active") == "1", actor=actor,
                                    areas=_areas() if "areas_shown" in request.form else None)
            name = u.username
    except ServiceError as exc:
        release_submission()
        field, msg = error_of(exc)
        return _page({f"{user_id}_{field}": msg}, {}, 422)
    flash(_("User %(name)s was updated.", name=name), "ok")
    return finish_submission(url_for("ui.users_page"))
