"""User administration from the web page: role, active flag and password changes, audited."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import AuditEvent, User
from controller.services import access, audit, users
from controller.services.errors import NotFound, ServiceError


def list_users(s: Session) -> list[User]:
    """Every user by name."""
    return list(s.scalars(sa.select(User).order_by(User.username)))


def get(s: Session, user_id: int) -> User:
    """A user by id, or NotFound."""
    user = s.get(User, user_id)
    if user is None:
        raise NotFound("unknown_user", f"unknown user {user_id}")
    return user


def _last_admin(s: Session, user: User) -> bool:
    if user.role != "admin" or not user.active:
        return False
    n = s.scalar(sa.select(sa.func.count()).select_from(User)
                 .where(User.role == "admin", User.active.is_(True)))
    return n <= 1


def update(s: Session, user_id: int, *, role: str, active: bool, actor: User,
           areas: list[int] | None = None) -> User:
    """Change a user's role, active flag and hamlets (None: unchanged); all audited.

    The last active admin cannot be demoted or disabled.
    """
    user = get(s, user_id)
    if role not in users.ROLES:
        raise ServiceError("bad_role", f"role must be one of {', '.join(users.ROLES)}", field="role")
    access.check_areas(s, role, user.areas if areas is None else areas)
    if (role != "admin" or not active) and _last_admin(s, user):
        raise ServiceError("last_admin", "the last active admin must stay an active admin",
                           field="role")
    if role != user.role:
        audit.record(s, "role_changed", actor=actor.username, target=user.username,
                     detail=f"{user.role} -> {role}")
        user.role = role
        users.end_sessions(user)
    if active != user.active:
        audit.record(s, "user_enabled" if active else "user_disabled", actor=actor.username,
                     target=user.username)
        user.active = active
        users.end_sessions(user)
    if areas is not None:
        users.set_areas(s, user, areas, actor=actor.username)
    return user


def set_password(s: Session, user_id: int, password: str, *, actor: User) -> User:
    """Set a new password (at least 8 characters) and clear any lock."""
    user = get(s, user_id)
    if len(password or "") < 8:
        raise ServiceError("weak_password", "password must have at least 8 characters",
                           field="password")
    user.password_hash = users.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    users.end_sessions(user)
    audit.record(s, "password_set", actor=actor.username, target=user.username)
    return user


def audit_page(s: Session, *, action: str | None = None, actor: str | None = None,
               page: int = 1, per_page: int = 50, user=None) -> tuple[list[AuditEvent], bool]:
    """A page of the audit log, newest first, and whether more follow.

    A user limited to hamlets sees only his own actions: the rest of the trail names
    other hamlets' broadcasts and people.
    """
    q = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if access.scope_of(user).limited:
        q = q.where(AuditEvent.actor == user.username)
    if action:
        q = q.where(AuditEvent.action == action)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    rows = list(s.scalars(q.limit(per_page + 1).offset((max(page, 1) - 1) * per_page)))
    return rows[:per_page], len(rows) > per_page


def audit_actions(s: Session) -> list[str]:
    """Distinct audit actions, for the filter."""
    return list(s.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
