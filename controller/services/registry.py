"""Hamlets and speakers: the register of speaker clusters."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller import broker_files
from controller.models import Hamlet, Speaker, utcnow
from controller.services.errors import Conflict, NotFound, ServiceError
from protocol.errors import ProtocolError
from protocol.topics import check_speaker_id


def get_or_create_hamlet(s: Session, name: str) -> Hamlet:
    """The hamlet with this name, created if new."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("hamlet_required", "hamlet name is empty", field="hamlet")
    if len(name) > 120:
        raise ServiceError("hamlet_too_long", "hamlet name is over 120 characters", field="hamlet")
    hamlet = s.scalar(sa.select(Hamlet).where(Hamlet.name == name))
    if hamlet is None:
        hamlet = Hamlet(name=name)
        s.add(hamlet)
        s.flush()
    return hamlet


def add_speaker(s: Session, speaker_id: str, hamlet_name: str, name: str | None = None,
                latitude: float | None = None, longitude: float | None = None) -> tuple[Speaker, str]:
    """Register a speaker with fresh broker credentials; returns it and its secret (shown once)."""
    try:
        check_speaker_id(speaker_id)
    except ProtocolError as exc:
        raise ServiceError("bad_speaker_id", str(exc), field="id") from None
    if s.get(Speaker, speaker_id) is not None:
        raise Conflict("speaker_exists", f"speaker {speaker_id!r} already exists", field="id")
    if speaker_id == broker_files.CONTROLLER_USER:
        raise ServiceError("bad_speaker_id", "'controller' is reserved", field="id")
    hamlet = get_or_create_hamlet(s, hamlet_name)
    secret = broker_files.new_secret()
    spk = Speaker(id=speaker_id, hamlet=hamlet, name=name, latitude=latitude, longitude=longitude,
                  secret_hash=broker_files.hash_password(secret))
    s.add(spk)
    s.flush()
    return spk, secret


def reset_secret(s: Session, speaker_id: str) -> str:
    """Give a speaker new broker credentials (e.g. after a Pi is reinstalled)."""
    spk = get_speaker(s, speaker_id)
    secret = broker_files.new_secret()
    spk.secret_hash = broker_files.hash_password(secret)
    spk.revoked_at = None
    return secret


def revoke_speaker(s: Session, speaker_id: str) -> Speaker:
    """Revoke a speaker: its broker account disappears at the next auth-file write."""
    spk = get_speaker(s, speaker_id)
    spk.revoked_at = utcnow()
    spk.online = False
    return spk


def get_speaker(s: Session, speaker_id: str) -> Speaker:
    """A speaker by id, or NotFound."""
    spk = s.get(Speaker, speaker_id)
    if spk is None:
        raise NotFound("unknown_speaker", f"unknown speaker {speaker_id!r}", field="speakers")
    return spk


def list_speakers(s: Session, include_revoked: bool = False, user=None) -> list[Speaker]:
    """Speakers ordered by hamlet then id (those of the user's hamlets)."""
    from controller.services import access  # it builds on this module

    q = (sa.select(Speaker).join(Hamlet).where(access.speaker_filter(access.scope_of(user)))
         .order_by(Hamlet.name, Speaker.id))
    if not include_revoked:
        q = q.where(Speaker.revoked_at.is_(None))
    return list(s.scalars(q))


def list_hamlets(s: Session, user=None) -> list[Hamlet]:
    """Hamlets by name (the user's own, for a user limited to hamlets)."""
    from controller.services import access

    return list(s.scalars(sa.select(Hamlet).where(access.hamlet_filter(access.scope_of(user)))
                          .order_by(Hamlet.name)))


def get_visible_speaker(s: Session, speaker_id: str, user) -> Speaker:
    """A speaker by id, or NotFound when unknown or outside the user's hamlets."""
    from controller.services import access

    spk = get_speaker(s, speaker_id)
    if not access.scope_of(user).allows(spk.hamlet_id):
        raise NotFound("unknown_speaker", f"unknown speaker {speaker_id!r}", field="speakers")
    return spk


def broker_accounts(s: Session) -> tuple[dict[str, str], dict[str, int]]:
    """(username → hash) and (speaker id → hamlet id) of every active speaker, for the broker's
    auth files (a speaker reads its own hamlet's group topic)."""
    rows = s.execute(sa.select(Speaker.id, Speaker.secret_hash, Speaker.hamlet_id).where(
        Speaker.revoked_at.is_(None), Speaker.secret_hash.is_not(None))).all()
    return {sid: h for sid, h, _ in rows}, {sid: hid for sid, _, hid in rows}


def move_speaker(s: Session, speaker_id: str, hamlet_name: str) -> Speaker:
    """Move a speaker to another hamlet (created if new); the caller rewrites the broker's ACL.

    The running controller then republishes the speaker's signed membership, and its agent
    moves its group subscription to the new hamlet without any change on the Pi.
    """
    spk = get_speaker(s, speaker_id)
    spk.hamlet = get_or_create_hamlet(s, hamlet_name)
    s.flush()
    return spk


def resolve_targets(s: Session, targets) -> list[Speaker]:
    """Turn {"all": true} | {"hamlets": [...]} | {"speakers": [...]} into active speakers."""
    if not isinstance(targets, dict) or not targets:
        raise ServiceError("targets_required",
                           "targets must be {\"all\": true}, {\"hamlets\": [...]} or "
                           "{\"speakers\": [...]}", field="targets")
    unknown_keys = set(targets) - {"all", "hamlets", "speakers"}
    if unknown_keys:
        raise ServiceError("bad_targets", f"unknown target kind {sorted(unknown_keys)[0]!r}",
                           field="targets")
    chosen: dict[str, Speaker] = {}
    if targets.get("all") is True:
        for spk in list_speakers(s):
            chosen[spk.id] = spk
    elif "all" in targets and targets["all"] is not False:
        raise ServiceError("bad_targets", "targets.all must be true or false", field="targets")
    for key in ("hamlets", "speakers"):
        items = targets.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str | int) for i in items):
            raise ServiceError("bad_targets", f"targets.{key} must be a list of names",
                               field="targets")
    for hname in targets.get("hamlets", []):
        q = sa.select(Hamlet).where(sa.or_(Hamlet.name == str(hname),
                                           sa.cast(Hamlet.id, sa.String) == str(hname)))
        hamlet = s.scalar(q)
        if hamlet is None:
            raise NotFound("unknown_hamlet", f"unknown hamlet {hname!r}", field="targets")
        for spk in hamlet.speakers:
            if spk.revoked_at is None:
                chosen[spk.id] = spk
    wanted = [str(sid) for sid in targets.get("speakers", [])]
    # One query for the whole list (a province-wide send names 1,000 speakers), then the
    # same per-id checks and messages as before.
    known = {spk.id: spk for spk in s.scalars(sa.select(Speaker).where(Speaker.id.in_(wanted)))}
    for sid in wanted:
        spk = known.get(sid) or get_speaker(s, sid)
        if spk.revoked_at is not None:
            raise ServiceError("revoked_speaker", f"speaker {sid!r} is revoked", field="targets")
        chosen[spk.id] = spk
    if not chosen:
        raise ServiceError("no_speakers", "the targets resolve to no speaker", field="targets")
    return sorted(chosen.values(), key=lambda x: x.id)
