"""Password logins with rate limiting per account and per client address.

- An account is locked for `LOCK_MINUTES` after `MAX_ACCOUNT_FAILURES` failed attempts
  in a row (the counter and the lock live on the User row, so they hold across
  restarts and across web worker processes).
- A client address is refused for `LOCK_MINUTES` after `MAX_IP_FAILURES` failures
  within the last `LOCK_MINUTES`, counted from the audit log, so one machine cannot
  guess passwords across many accounts.
- Every attempt is audited: `login`, `login_failed` (with the reason) and
  `account_locked`.

A locked account answers "locked" even to the right password, and an unknown
username costs the same argon2 work as a known one, so neither the lock nor the
answer time tells an attacker which usernames exist or which guess was right.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import AuditEvent, User, utcnow
from controller.services import audit, users

MAX_ACCOUNT_FAILURES = 5
MAX_IP_FAILURES = 20
LOCK_MINUTES = 15
BAD_CREDENTIALS = "bad_credentials"
LOCKED = "locked"
# Hash of a random password, verified against when the username is unknown (equal cost).
_DUMMY_HASH = users.hash_password("not-a-real-password-8d1f")


class Refusal(str):
    """An error code (compares equal to "bad_credentials" / "locked") with minutes left."""

    minutes: int

    def __new__(cls, code: str, minutes: int = 0) -> Refusal:
        obj = super().__new__(cls, code)
        obj.minutes = minutes
        return obj


def message_vi(error: str) -> str:
    """The Vietnamese sentence to show for an error code from `authenticate`."""
    if error == LOCKED:
        minutes = getattr(error, "minutes", 0) or LOCK_MINUTES
        return (f"Tài khoản tạm khóa do đăng nhập sai nhiều lần. "
                f"Vui lòng thử lại sau {minutes} phút.")
    return "Sai tên đăng nhập hoặc mật khẩu."


def _minutes_until(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def ip_locked_until(s: Session, ip: str | None, now: datetime | None = None,
                    max_failures: int = MAX_IP_FAILURES,
                    lock_minutes: int = LOCK_MINUTES) -> datetime | None:
    """When the address may try again, if it has failed too often lately; else None."""
    if not ip:
        return None
    now = now or utcnow()
    window = now - timedelta(minutes=lock_minutes)
    times = s.scalars(sa.select(AuditEvent.at).where(
        AuditEvent.action == "login_failed", AuditEvent.ip == ip, AuditEvent.at > window,
    ).order_by(AuditEvent.at.desc()).limit(max_failures)).all()
    if len(times) < max_failures:
        return None
    # The address is free again once the oldest of its last N failures leaves the window.
    return times[-1] + timedelta(minutes=lock_minutes)


def authenticate(s: Session, username: str, password: str, ip: str | None, *,
                 max_failures: int = MAX_ACCOUNT_FAILURES, ip_max_failures: int = MAX_IP_FAILURES,
                 lock_minutes: int = LOCK_MINUTES) -> tuple[User | None, str | None]:
    """Check a login; returns (user, None) or (None, "bad_credentials" | "locked" Refusal)."""
    now = utcnow()
    name = (username or "").strip()[:80]
    actor = name or None
    ip_until = ip_locked_until(s, ip, now, ip_max_failures, lock_minutes)
    if ip_until is not None:
        # Not recorded as login_failed, or a steady stream would keep the address locked forever.
        audit.record(s, "login_refused", actor=actor, ip=ip, detail="address locked")
        return None, Refusal(LOCKED, _minutes_until(ip_until, now))
    user = s.scalar(sa.select(User).where(User.username == name)) if name else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        users.verify_password(user, password or "")  # same cost as a real attempt
        audit.record(s, "login_failed", actor=actor, ip=ip, detail="account locked")
        return None, Refusal(LOCKED, _minutes_until(user.locked_until, now))
    if user is None:
        users.verify_password(User(password_hash=_DUMMY_HASH), password or "")  # same cost
        audit.record(s, "login_failed", actor=actor, ip=ip, detail="unknown user")
        return None, Refusal(BAD_CREDENTIALS)
    if (not user.active or user.role in users.TOKEN_ONLY_ROLES
            or not users.verify_password(user, password or "")):
        return None, _count_failure(s, user, ip, now, max_failures, lock_minutes)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(s, "login", actor=user.username, ip=ip)
    return user, None


def _count_failure(s: Session, user: User, ip: str | None, now: datetime, max_failures: int,
                   lock_minutes: int) -> Refusal:
    user.failed_logins = (user.failed_logins or 0) + 1
    detail = "inactive account" if not user.active else "bad password"
    audit.record(s, "login_failed", actor=user.username, ip=ip,
                 detail=f"{detail} ({user.failed_logins}/{max_failures})")
    if user.failed_logins < max_failures:
        return Refusal(BAD_CREDENTIALS)
    user.failed_logins = 0
    user.locked_until = now + timedelta(minutes=lock_minutes)
    audit.record(s, "account_locked", actor="system", target=user.username, ip=ip,
                 detail=f"{max_failures} failed logins; locked {lock_minutes} min")
    return Refusal(LOCKED, lock_minutes)


def unlock(s: Session, username: str, actor: str | None = None) -> None:
    """Lift an account's lock (an admin's action, audited)."""
    user = users.get_user(s, username)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(s, "account_unlocked", actor=actor, target=username)
