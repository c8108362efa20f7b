"""Accounts, roles, passwords (argon2) and API tokens (stored as SHA-256 only)."""

from __future__ import annotations

import hashlib
import re
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from controller.models import ApiToken, Hamlet, User, utcnow
from controller.services import audit
from controller.services.errors import Conflict, NotFound, ServiceError

ROLES = ("admin", "editor", "approver", "viewer", "alert-source")
TOKEN_ONLY_ROLES = ("alert-source",)
"""Machine accounts: an API token for one endpoint, never a web login."""
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """True if the password matches; never raises for a bad hash."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(s: Session, username: str, role: str, password: str | None = None,
             actor: str | None = None, areas: list[int] | None = None) -> tuple[User, str]:
    """Create a user, optionally limited to hamlets (ids); returns it and its password."""
    from controller.services import access

    if not USERNAME_RE.match(username or ""):
        raise ServiceError("bad_username", "username must be 2-80 letters, digits or _.@-",
                           field="username")
    if role not in ROLES:
        raise ServiceError("bad_role", f"role must be one of {', '.join(ROLES)}", field="role")
    if s.scalar(sa.select(User).where(User.username == username)):
        raise Conflict("user_exists", f"user {username!r} already exists", field="username")
    hamlets = access.check_areas(s, role, areas or [])
    password = password or secrets.token_urlsafe(12)
    if len(password) < 8:
        raise ServiceError("weak_password", "password must have at least 8 characters",
                           field="password")
    user = User(username=username, role=role, password_hash=hash_password(password),
                areas=[h.id for h in hamlets] or None)
    s.add(user)
    s.flush()
    audit.record(s, "user_created", actor=actor, target=username, detail=f"role={role}")
    if hamlets:
        audit.record(s, "areas_changed", actor=actor, target=username,
                     detail=f"whole commune -> {', '.join(h.name for h in hamlets)}")
    return user, password


def set_areas(s: Session, user: User, hamlet_ids: list[int], actor: str | None = None) -> User:
    """Limit a user to these hamlets (empty: the whole commune); audited, ends his sessions."""
    from controller.services import access

    hamlets = access.check_areas(s, user.role, hamlet_ids)
    new = sorted(h.id for h in hamlets)
    old = sorted(user.areas or [])
    if new == old:
        return user

    def names(ids) -> str:
        return ", ".join(sorted(s.get(Hamlet, i).name for i in ids if s.get(Hamlet, i))) \
            or "whole commune"

    audit.record(s, "areas_changed", actor=actor, target=user.username,
                 detail=f"{names(old)} -> {names(new)}")
    user.areas = new or None
    end_sessions(user)
    return user


def get_user(s: Session, username: str) -> User:
    """A user by name, or NotFound."""
    user = s.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound("unknown_user", f"unknown user {username!r}", field="username")
    return user


def set_role(s: Session, username: str, role: str, actor: str | None = None) -> User:
    """Change a user's role (audited with the old and new role)."""
    if role not in ROLES:
        raise ServiceError("bad_role", f"role must be one of {', '.join(ROLES)}", field="role")
    user = get_user(s, username)
    if role == "admin" and user.areas:
        from controller.services import access

        access.check_areas(s, role, user.areas)  # refuses: an admin is for the whole commune
    old, user.role = user.role, role
    if old != role:
        end_sessions(user)
    audit.record(s, "role_changed", actor=actor, target=username, detail=f"{old} -> {role}")
    return user


def end_sessions(user: User) -> None:
    """End every web session of this user: their cookies carry the old generation."""
    # An UPDATE … SET x = x + 1 so two changes at once never lose one another's bump.
    user.session_generation = User.session_generation + 1


def session_valid(s: Session, user_id: int, generation) -> User | None:
    """The active user a session cookie names, if the cookie's generation is still current."""
    user = s.get(User, user_id)
    if user is None or not user.active or generation != user.session_generation:
        return None
    return user


def new_token(s: Session, username: str, actor: str | None = None) -> str:
    """Create an API token for a user; the plain token is returned once and never stored."""
    user = get_user(s, username)
    token = "crt_" + secrets.token_urlsafe(32)
    s.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    audit.record(s, "token_created", actor=actor or username, target=username)
    return token


def revoke_tokens(s: Session, username: str, actor: str | None = None) -> int:
    """Revoke every token of a user; returns how many."""
    user = get_user(s, username)
    tokens = s.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                 ApiToken.revoked_at.is_(None))).all()
    for t in tokens:
        t.revoked_at = utcnow()
    audit.record(s, "tokens_revoked", actor=actor, target=username, detail=str(len(tokens)))
    return len(tokens)


def user_for_token(s: Session, token: str) -> User | None:
    """The active user owning a valid token, else None."""
    if not token:
        return None
    row = s.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_hash(token),
                                             ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random, so a fast hash is enough (no need for argon2 here).
    return hashlib.sha256(token.encode()).hexdigest()
