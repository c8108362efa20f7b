"""Upstream sources for tiếp sóng: registered by name and URL after ffprobe says they carry audio."""

from __future__ import annotations

from urllib.parse import urlparse

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller import stream_probe
from controller.models import User
from controller.relay_models import StreamSource
from controller.services import audit
from controller.services.errors import Conflict, Forbidden, NotFound, ServiceError

MANAGE_ROLES = ("admin", "editor", "approver")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_url(url, field: str, loopback_only: bool = False) -> str:
    """A trimmed http(s) URL (HLS playlists are http(s) too), or a ServiceError naming the field."""
    if not isinstance(url, str) or not url.strip():
        raise ServiceError("url_required", f"field '{field}' must be the stream's URL", field=field)
    url = url.strip()
    if len(url) > 1000:
        raise ServiceError("bad_url", f"field '{field}' is over 1000 characters", field=field)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ServiceError("bad_url", f"field '{field}' must be an http:// or https:// URL "
                                      "(an Icecast/Shoutcast stream or an HLS .m3u8 playlist)",
                           field=field)
    if loopback_only and parsed.hostname not in LOOPBACK:
        raise ServiceError("source_not_loopback", f"field '{field}': this controller accepts only "
                                                  "sources on 127.0.0.1", field=field)
    return url


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ServiceError("name_required", "field 'name' must be the station's name", field="name")
    name = name.strip()
    if len(name) > 120:
        raise ServiceError("name_too_long", "field 'name' is over 120 characters", field="name")
    return name


def register(ctx, *, name, url, backup_url=None, force=False, user: User,
             probe=stream_probe.probe) -> int:
    """Probe the URL(s) and save the source; an unplayable URL is refused unless `force`."""
    if user.role not in MANAGE_ROLES:
        raise Forbidden("forbidden_role", "only an editor, approver or admin may add sources")
    if not isinstance(force, bool):
        raise ServiceError("bad_force", "field 'force' must be true or false", field="force")
    name = _check_name(name)
    local = ctx.settings.relay_loopback_only
    url = check_url(url, "url", local)
    backup_url = check_url(backup_url, "backup_url", local) if backup_url not in (None, "") else None
    with ctx.db.session() as s:
        if s.scalar(sa.select(StreamSource.id).where(StreamSource.name == name)) is not None:
            raise Conflict("source_exists", f"a source named {name!r} already exists", field="name")
    main = probe(url)
    problems = [] if main.ok else [("url", main)]
    if backup_url:
        backup = probe(backup_url)
        if not backup.ok:
            problems.append(("backup_url", backup))
    if problems and not force:
        field, res = problems[0]
        raise ServiceError(res.code or "source_unreachable",
                           f"{field}: {res.error}; not saved (send force: true to save it anyway, "
                           "e.g. for a station that is off the air at night)", field=field)
    try:
        return _save(ctx, name, url, backup_url, main, problems, user)
    except IntegrityError:  # the same name saved meanwhile by another request
        raise Conflict("source_exists", f"a source named {name!r} already exists",
                       field="name") from None


def _save(ctx, name, url, backup_url, main, problems, user: User) -> int:
    with ctx.db.session() as s:
        src = StreamSource(name=name, url=url, backup_url=backup_url, format_name=main.format_name,
                           codec=main.codec, bitrate=main.bitrate, created_by=user.id,
                           probe_error="; ".join(f"{f}: {r.error}" for f, r in problems)[:500]
                           or None)
        s.add(src)
        s.flush()
        audit.record(s, "source_added", actor=user.username, target=f"source:{src.id}",
                     detail=f"{name} {url}" + (" (saved anyway)" if problems else ""))
        return src.id


def list_sources(s: Session) -> list[StreamSource]:
    """Every source, by name."""
    return list(s.scalars(sa.select(StreamSource).order_by(StreamSource.name)))


def get(s: Session, source_id) -> StreamSource:
    """A source by id, or NotFound naming the field."""
    ok = isinstance(source_id, int) and not isinstance(source_id, bool) and 0 < source_id < 2**31
    src = s.get(StreamSource, source_id) if ok else None
    if src is None:
        raise NotFound("unknown_source", f"unknown source {source_id!r}", field="source_id")
    return src


def to_dict(src: StreamSource) -> dict:
    """The API shape of a source."""
    return {"id": src.id, "name": src.name, "url": src.url, "backup_url": src.backup_url,
            "format": src.format_name, "codec": src.codec, "bitrate": src.bitrate,
            "probe_error": src.probe_error}
