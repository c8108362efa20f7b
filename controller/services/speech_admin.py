"""Speech preview and the admin-edited abbreviation dictionary."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller import speech
from controller.models import Abbreviation, User
from controller.services import announcements, audit
from controller.services.errors import ServiceError

MAX_ENTRIES = 2000
PREVIEW_SUBJECT = "~preview"  # must match web.media.PREVIEW_SUBJECT


def preview(ctx, text) -> dict:
    """Render text (cached) and return what will be spoken plus where to hear it."""
    text = announcements.check_text(text, ctx.settings.max_text_chars)
    with ctx.db.session() as s:
        abbreviations = announcements.abbreviations(s)
    rendered = speech.render_text(ctx, text, abbreviations)
    with ctx.db.session() as s:
        asset = announcements.store_audio(s, ctx, rendered, source="preview")
        sha, duration = asset.sha256, asset.duration_ms
    url = ctx.store.signed_url("", sha, PREVIEW_SUBJECT, 3600)
    return {"spoken_text": rendered.spoken_text, "audio_url": url, "duration_ms": duration,
            "engine": rendered.engine, "cached": rendered.cached}


def dictionary(s: Session) -> tuple[dict[str, str], str]:
    """The dictionary in force and whether it is the shipped default or the commune's own."""
    from audio.normalize import DEFAULT_ABBREVIATIONS

    custom = announcements.abbreviations(s)
    return (custom, "custom") if custom else (dict(DEFAULT_ABBREVIATIONS), "default")


def replace_dictionary(s: Session, entries, user: User) -> int:
    """Replace the whole dictionary (validated); an empty dict restores the default."""
    if not isinstance(entries, dict):
        raise ServiceError("bad_abbreviations", "abbreviations must be an object of "
                           "{\"ABBR\": \"spoken words\"}", field="abbreviations")
    if len(entries) > MAX_ENTRIES:
        raise ServiceError("bad_abbreviations", f"at most {MAX_ENTRIES} entries",
                           field="abbreviations")
    clean: dict[str, str] = {}
    for short, spoken in entries.items():
        if not isinstance(spoken, str) or not short.strip() or not spoken.strip():
            raise ServiceError("bad_abbreviations",
                               f"entry {short!r} needs a non-empty abbreviation and spoken form",
                               field="abbreviations")
        if len(short) > 40 or len(spoken) > 200:
            raise ServiceError("bad_abbreviations", f"entry {short!r} is too long",
                               field="abbreviations")
        clean[short.strip()] = spoken.strip()
    s.execute(sa.delete(Abbreviation))
    s.add_all(Abbreviation(short=k, spoken=v) for k, v in clean.items())
    audit.record(s, "abbreviations_replaced", actor=user.username, detail=f"{len(clean)} entries")
    return len(clean)
