"""Announcements: text spoken by the engine chain, or uploaded audio, mastered and stored."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Abbreviation, Announcement, AudioAsset, User, utcnow
from controller.services import audit
from controller.services.errors import ServiceError


def check_text(text, max_chars: int) -> str:
    """Validate announcement text; return it stripped."""
    if text is None:
        raise ServiceError("text_required", "missing field 'text'", field="text")
    if not isinstance(text, str):
        raise ServiceError("text_not_string", "field 'text' must be a string", field="text")
    text = text.strip()
    if not text:
        raise ServiceError("text_empty", "the announcement text is empty", field="text")
    if len(text) > max_chars:
        raise ServiceError("text_too_long",
                           f"the text has {len(text)} characters; the maximum is {max_chars}",
                           field="text", max=max_chars)
    return text


def abbreviations(s: Session) -> dict[str, str] | None:
    """The admin-edited abbreviation dictionary, or None to use the shipped default."""
    rows = s.execute(sa.select(Abbreviation.short, Abbreviation.spoken)).all()
    return {a: b for a, b in rows} or None


def store_audio(s: Session, ctx, rendered, source: str) -> AudioAsset:
    """Put a rendered MP3 into the content-addressed store and record it."""
    sha, size = ctx.store.put(Path(rendered.mp3_path))
    asset = s.get(AudioAsset, sha)
    if asset is None:
        asset = AudioAsset(sha256=sha, bytes=size, duration_ms=rendered.duration_ms,
                           source=source, engine=rendered.engine)
        s.add(asset)
        s.flush()
    return asset


def create(s: Session, ctx, *, title: str, text: str | None, rendered, source: str,
           user: User | None, approved: bool) -> Announcement:
    """Record an announcement for already-rendered audio (None: its speech is still rendering)."""
    asset = store_audio(s, ctx, rendered, source) if rendered is not None else None
    title = (title or (text or "").strip().split("\n")[0])[:200] or "(không tiêu đề)"
    ann = Announcement(
        title=title, text=text, spoken_text=getattr(rendered, "spoken_text", None),
        audio_sha256=asset.sha256 if asset else None,
        engine=rendered.engine if rendered is not None else None,
        status="approved" if approved else "draft",
        created_by=user.id if user else None,
    )
    if approved:
        ann.approved_by = user.id if user else None
        ann.approved_at = utcnow()
    s.add(ann)
    s.flush()
    audit.record(s, "announcement_created", actor=user.username if user else None,
                 target=f"announcement:{ann.id}",
                 detail=f"engine={rendered.engine if rendered is not None else 'rendering'}")
    return ann
