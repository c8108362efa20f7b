"""One-time form tokens: the first POST with a token does the work; repeats find its result."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.models import utcnow
from controller.web_models import FormSubmission

TOKEN_CHARS = 64


def new_token() -> str:
    """A fresh token to embed in a form."""
    return secrets.token_urlsafe(24)


def claim(db, token: str, user_id: int | None) -> FormSubmission | None:
    """Claim a token in its own committed transaction: None if this request is the first.

    Committing before the work starts is what makes a double-click safe: the second
    request's insert fails on the primary key even while the first is still working.
    """
    token = (token or "")[:TOKEN_CHARS]
    if not token:
        return None
    try:
        with db.session() as s:
            s.add(FormSubmission(token=token, user_id=user_id))
        return None
    except IntegrityError:
        with db.session() as s:
            return s.get(FormSubmission, token)


def get(db, token: str) -> FormSubmission | None:
    """A used token's row, or None (released or unknown)."""
    with db.session() as s:
        return s.get(FormSubmission, (token or "")[:TOKEN_CHARS])


def finish(s: Session, token: str, result_url: str) -> None:
    """Record where the first submission led, so repeats land there too."""
    row = s.get(FormSubmission, (token or "")[:TOKEN_CHARS])
    if row is not None:
        row.result_url = result_url[:300]


def release(db, token: str) -> None:
    """Forget a token whose submission failed validation, so the corrected form can be sent."""
    with db.session() as s:
        s.execute(sa.delete(FormSubmission).where(FormSubmission.token == (token or "")[:TOKEN_CHARS]))


def prune(s: Session, older_than_days: int = 7) -> int:
    """Delete old tokens; returns how many."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    res = s.execute(sa.delete(FormSubmission).where(FormSubmission.created_at < cutoff))
    return res.rowcount or 0
