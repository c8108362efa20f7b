"""Password logins with rate limiting per account and per client address.

- An account is locked for `LOCK_MINUTES` after `MAX_ACCOUNT_FAILURES` failed attempts
  in a row (the counter and the lock live on the User row, so they hold across
  restarts and across web worker processes).
- A client address is refused for `LOCK_MINUTES` once it has made more than
  `MAX_IP_FAILURES` failed attempts in a window of `LOCK_MINUTES`, so one machine cannot
  guess passwords across many accounts.
- Every attempt is audited: `login`, `login_failed` (with the reason) and
  `account_locked`.

Both counters are taken *before* the password is checked, with one atomic statement
(`UPDATE ... SET failed_logins = failed_logins + 1 ... RETURNING`, and an upsert with
RETURNING for the address; SQLite >= 3.35 and PostgreSQL), and committed at once. Reading
the counter, checking the password and writing the counter back let 30 parallel guesses
make 27 password checks and never lock the account: each read 4/5. Now the N-th parallel
attempt knows it is the N-th, and past the limit it is refused without a check.

A locked account answers "locked" even to the right password, which it does not check
(a flood against a locked account costs no argon2 work). An unknown username costs the
same argon2 work as a known one and gets the same answer as a wrong password, so the
answer time does not tell which usernames exist or which guess was right.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from controller.models import LoginAddress, User, UTCDateTime, utcnow
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


def _reserve_address(s: Session, ip: str | None, now: datetime, max_failures: int,
                     lock_minutes: int) -> datetime | None:
    """Count one attempt from the address; when it is over the limit, until when it is refused."""
    if not ip:
        return None
    table = LoginAddress.__table__
    insert = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    fresh = table.c.window_start <= now - timedelta(minutes=lock_minutes)
    stmt = insert.values(ip=ip[:64], window_start=now, attempts=1).on_conflict_do_update(
        index_elements=[table.c.ip],
        set_={"attempts": sa.case((fresh, 1), else_=table.c.attempts + 1),
              "window_start": sa.case((fresh, sa.literal(now, UTCDateTime)),
                                      else_=table.c.window_start)},
    ).returning(table.c.attempts, table.c.window_start)
    attempts, window_start = s.execute(stmt).one()
    if attempts <= max_failures:
        return None
    return window_start + timedelta(minutes=lock_minutes)


def _release_address(s: Session, ip: str | None) -> None:
    """A successful login does not count against its address."""
    if ip:
        t = LoginAddress.__table__
        s.execute(t.update().where(t.c.ip == ip[:64], t.c.attempts > 0)
                  .values(attempts=t.c.attempts - 1))


def _reserve_account(s: Session, user: User, now: datetime) -> int | None:
    """Count one attempt on the account: its number, or None if the account is locked."""
    t = User.__table__
    return s.execute(
        t.update().where(t.c.id == user.id,
                         sa.or_(t.c.locked_until.is_(None), t.c.locked_until <= now))
        .values(failed_logins=sa.func.coalesce(t.c.failed_logins, 0) + 1)
        .returning(t.c.failed_logins)).scalar_one_or_none()


def authenticate(s: Session, username: str, password: str, ip: str | None, *,
                 max_failures: int = MAX_ACCOUNT_FAILURES, ip_max_failures: int = MAX_IP_FAILURES,
                 lock_minutes: int = LOCK_MINUTES) -> tuple[User | None, str | None]:
    """Check a login; returns (user, None) or (None, "bad_credentials" | "locked" Refusal)."""
    now = utcnow()
    name = (username or "").strip()[:80]
    actor = name or None
    ip_until = _reserve_address(s, ip, now, ip_max_failures, lock_minutes)
    if ip_until is not None:
        # Not recorded as login_failed; the window ends on its own however many keep coming.
        audit.record(s, "login_refused", actor=actor, ip=ip, detail="address locked")
        return None, Refusal(LOCKED, _minutes_until(ip_until, now))
    user = s.scalar(sa.select(User).where(User.username == name)) if name else None
    attempt = _reserve_account(s, user, now) if user is not None else None
    # Committed before the slow password check, so parallel attempts see these counts.
    s.commit()
    if user is None:
        users.verify_password(User(password_hash=_DUMMY_HASH), password or "")  # same cost
        audit.record(s, "login_failed", actor=actor, ip=ip, detail="unknown user")
        return None, Refusal(BAD_CREDENTIALS)
    if attempt is None or attempt > max_failures:
        # Locked, or parallel attempts already used up the limit: the password is not checked.
        s.refresh(user)
        until = user.locked_until if user.locked_until and user.locked_until > now else None
        audit.record(s, "login_failed", actor=actor, ip=ip, detail="account locked")
        return None, Refusal(LOCKED, _minutes_until(until, now) if until else lock_minutes)
    if (not user.active or user.role in users.TOKEN_ONLY_ROLES
            or not users.verify_password(user, password or "")):
        return None, _count_failure(s, user, ip, now, attempt, max_failures, lock_minutes)
    t = User.__table__
    s.execute(t.update().where(t.c.id == user.id).values(failed_logins=0, locked_until=None))
    _release_address(s, ip)
    s.refresh(user)
    audit.record(s, "login", actor=user.username, ip=ip)
    return user, None


def _count_failure(s: Session, user: User, ip: str | None, now: datetime, attempt: int,
                   max_failures: int, lock_minutes: int) -> Refusal:
    detail = "inactive account" if not user.active else "bad password"
    audit.record(s, "login_failed", actor=user.username, ip=ip,
                 detail=f"{detail} ({attempt}/{max_failures})")
    if attempt < max_failures:
        return Refusal(BAD_CREDENTIALS)
    t = User.__table__
    s.execute(t.update().where(t.c.id == user.id).values(
        failed_logins=0, locked_until=now + timedelta(minutes=lock_minutes)))
    s.refresh(user)
    audit.record(s, "account_locked", actor="system", target=user.username, ip=ip,
                 detail=f"{max_failures} failed logins; locked {lock_minutes} min")
    return Refusal(LOCKED, lock_minutes)


def unlock(s: Session, username: str, actor: str | None = None) -> None:
    """Lift an account's lock (an admin's action, audited)."""
    user = users.get_user(s, username)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(s, "account_unlocked", actor=actor, target=username)
