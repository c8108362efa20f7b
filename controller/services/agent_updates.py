"""Agent updates over the air: publish a wheel, stage a rollout, send, and learn the outcome.

- `publish` checks the wheel is a commune-radio wheel whose metadata matches its name,
  keeps it in `<data>/updates/<sha256>/<file>` (content-addressed) and records it.
- `set_target` says which version a hamlet, a speaker, or the whole commune runs.
  The most specific target wins: a rollout starts with one hamlet, then goes to all.
- `due` lists speakers whose reported version differs from their target and that have no
  attempt for that version yet; `UpdateSender` (called by the dispatcher loop) signs and
  sends them an `update` command. A failed attempt is not retried by itself: the fleet
  page shows it, and setting the target again clears it for a new try.
- `apply_ack` records what the agent said (received, installed, failed, rejected,
  rolled back) and audits every failure.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import uuid
import zipfile
from datetime import timedelta
from email.parser import Parser
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Hamlet, Speaker, utcnow
from controller.services import audit
from controller.update_models import FAILED_STATES, AgentRelease, UpdateAttempt, UpdateTarget
from protocol.digest import sha256_file
from protocol.messages import VERSION_RE, Ack, Command, Update

log = logging.getLogger(__name__)
WHEEL_RE = re.compile(r"^commune_radio-([^-]+)-[^-]+-[^-]+-[^-]+\.whl$")
UPDATE_TTL = timedelta(days=7)
"""An offline speaker still takes the update when it comes back within a week."""
ACK_STATES = {"received": "received", "update_installed": "installed", "update_failed": "failed",
              "rejected": "rejected", "rolled_back": "rolled_back"}


class UpdateError(ValueError):
    """A wheel or a target that cannot be used; the message says why, `code` and `params` let
    the web page say it in Vietnamese."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def read_wheel(path: Path) -> str:
    """The version of a commune-radio wheel, checked against its metadata; UpdateError if not."""
    m = WHEEL_RE.match(path.name)
    if not m:
        raise UpdateError(f"{path.name} is not a commune-radio wheel (commune_radio-VERSION-…whl)",
                          "not_wheel", name=path.name)
    try:
        with zipfile.ZipFile(path) as zf:
            meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            meta = Parser().parsestr(zf.read(meta_name).decode("utf-8"))
            names = zf.namelist()
    except (zipfile.BadZipFile, StopIteration, OSError) as exc:
        raise UpdateError(f"{path.name} is not a readable wheel: {exc}", "not_wheel",
                          name=path.name) from None
    if meta.get("Name", "").lower().replace("_", "-") != "commune-radio" or meta.get("Version") != m.group(1):
        raise UpdateError(f"{path.name}: its metadata says {meta.get('Name')} {meta.get('Version')}",
                          "metadata", name=path.name)
    if not VERSION_RE.match(m.group(1)):
        raise UpdateError(f"version {m.group(1)} is not a plain release version like 1.2.3", "version",
                          version=m.group(1))
    if not any(n.startswith("speaker_agent/") for n in names):
        raise UpdateError(f"{path.name} holds no speaker_agent package", "no_agent", name=path.name)
    return m.group(1)


def publish(s: Session, data_dir: Path, wheel: Path, actor: str | None = None) -> AgentRelease:
    """Store a wheel by its hash and record the release (the same wheel again is a no-op)."""
    version = read_wheel(wheel)
    sha = sha256_file(wheel)
    existing = s.scalar(sa.select(AgentRelease).where(AgentRelease.version == version))
    if existing is not None:
        if existing.sha256 != sha:
            raise UpdateError(f"version {version} was already published with another wheel; "
                              "give the new build a new version", "republished", version=version)
        return existing
    dest = Path(data_dir) / "updates" / sha / wheel.name
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part")
        os.close(fd)
        shutil.copyfile(wheel, tmp)
        os.replace(tmp, dest)
    rel = AgentRelease(version=version, sha256=sha, bytes=dest.stat().st_size, filename=wheel.name,
                       published_by=actor)
    s.add(rel)
    audit.record(s, "update_published", actor=actor, target=version, detail=f"{wheel.name} sha256 {sha}")
    return rel


def set_target(s: Session, version: str, *, hamlets: list[str] = (), speakers: list[str] = (),
               everyone: bool = False, actor: str | None = None) -> list[str]:
    """Point hamlets, speakers or everyone at a published version; the scopes set, in words."""
    if s.scalar(sa.select(AgentRelease).where(AgentRelease.version == version)) is None:
        raise UpdateError(f"version {version} has not been published", "unpublished", version=version)
    if not (hamlets or speakers or everyone):
        raise UpdateError("say where: --hamlet NAME, --speaker ID or --all", "no_scope")
    scopes: list[tuple[int | None, str | None, str]] = []
    for name in hamlets:
        h = s.scalar(sa.select(Hamlet).where(Hamlet.name == name))
        if h is None:
            raise UpdateError(f"no hamlet named {name!r}", "no_hamlet", name=name)
        scopes.append((h.id, None, f"hamlet {name}"))
    for sid in speakers:
        if s.get(Speaker, sid) is None:
            raise UpdateError(f"no speaker {sid!r}", "no_speaker", name=sid)
        scopes.append((None, sid, f"speaker {sid}"))
    if everyone:
        scopes.append((None, None, "all speakers"))
    for hamlet_id, speaker_id, words in scopes:
        row = s.scalar(sa.select(UpdateTarget).where(UpdateTarget.hamlet_id.is_(hamlet_id) if hamlet_id
                                                     is None else UpdateTarget.hamlet_id == hamlet_id,
                                                     UpdateTarget.speaker_id.is_(None) if speaker_id is None
                                                     else UpdateTarget.speaker_id == speaker_id))
        if row is None:
            s.add(UpdateTarget(hamlet_id=hamlet_id, speaker_id=speaker_id, version=version))
        else:
            row.version, row.set_at = version, utcnow()
        audit.record(s, "update_target", actor=actor, target=words, detail=f"version {version}")
    # A new try: unfinished or failed attempts for this version are forgotten, so they are
    # sent again (the agent dedupes by command id and installs only the newest command).
    s.execute(sa.delete(UpdateAttempt).where(UpdateAttempt.version == version,
                                             UpdateAttempt.state != "installed"))
    return [w for _, _, w in scopes]


def releases(s: Session) -> list[str]:
    """Published versions, newest publication first."""
    return list(s.scalars(sa.select(AgentRelease.version).order_by(AgentRelease.published_at.desc(),
                                                                   AgentRelease.id.desc())))


def targets(s: Session) -> dict[str, str]:
    """The target version of every speaker that has one (speaker > hamlet > all)."""
    rows = s.scalars(sa.select(UpdateTarget)).all()
    if not rows:  # no rollout: the update sender asks every few seconds, so skip the fleet
        return {}
    everyone = next((t.version for t in rows if t.hamlet_id is None and t.speaker_id is None), None)
    by_hamlet = {t.hamlet_id: t.version for t in rows if t.hamlet_id is not None}
    by_speaker = {t.speaker_id: t.version for t in rows if t.speaker_id is not None}
    out = {}
    # Two columns, not Speaker objects: at 10,000 speakers the ORM load was a third of the
    # dispatcher thread's time (py-spy, bench.fanout --province).
    for sid, hamlet_id in s.execute(sa.select(Speaker.id, Speaker.hamlet_id)
                                    .where(Speaker.revoked_at.is_(None))):
        v = by_speaker.get(sid) or by_hamlet.get(hamlet_id) or everyone
        if v:
            out[sid] = v
    return out


def reported_version(spk: Speaker) -> str | None:
    """The version the speaker last reported in its state."""
    return (spk.state or {}).get("version")


def due(s: Session) -> list[tuple[Speaker, AgentRelease]]:
    """Online speakers not at their target and not yet sent (or failed) that version."""
    want = targets(s)
    if not want:
        return []
    releases = {r.version: r for r in s.scalars(sa.select(AgentRelease))}
    tried = {(a.speaker_id, a.version) for a in s.scalars(sa.select(UpdateAttempt))}
    out = []
    for sid, version in sorted(want.items()):
        spk = s.get(Speaker, sid)
        if spk.online and reported_version(spk) not in (None, version) and (sid, version) not in tried:
            out.append((spk, releases[version]))
    return out


def build_command(spk: Speaker, rel: AgentRelease, base_url: str) -> Command:
    """The unsigned update command for one speaker."""
    now = utcnow()
    url = f"{base_url}/updates/{rel.sha256}/{rel.filename}"
    return Command(id=f"upd-{uuid.uuid4().hex[:16]}", type="update", speaker_id=spk.id, issued_at=now,
                   expires_at=now + UPDATE_TTL,
                   update=Update(version=rel.version, url=url, sha256=rel.sha256, bytes=rel.bytes))


def apply_ack(s: Session, topic_speaker: str, ack: Ack) -> bool:
    """Record an agent's ack of an update command; False when it is not one."""
    attempt = s.scalar(sa.select(UpdateAttempt).where(UpdateAttempt.command_id == ack.command_id))
    if attempt is None or attempt.speaker_id != topic_speaker:
        return False
    state = ACK_STATES.get(ack.event)
    if state is None:
        return True
    if attempt.state in ("installed", *FAILED_STATES) and state == "received":
        return True  # a late copy of the first ack
    attempt.state, attempt.detail, attempt.updated_at = state, ack.detail, utcnow()
    if state in FAILED_STATES:
        audit.record(s, f"update_{state}", actor=topic_speaker, target=attempt.version,
                     detail=ack.detail)
        log.warning("update of %s to %s %s: %s", topic_speaker, attempt.version, state, ack.detail)
    elif state == "installed":
        audit.record(s, "update_installed", actor=topic_speaker, target=attempt.version,
                     detail=f"from {attempt.from_version}")
    return True


def progress(s: Session) -> dict:
    """The rollout as the fleet page shows it: per speaker target, version, attempt; and totals."""
    want = targets(s)
    latest: dict[str, UpdateAttempt] = {}
    for a in s.scalars(sa.select(UpdateAttempt).order_by(UpdateAttempt.sent_at)):
        latest[a.speaker_id] = a
    rows = {}
    for spk in s.scalars(sa.select(Speaker).where(Speaker.revoked_at.is_(None))):
        a = latest.get(spk.id)
        rows[spk.id] = {"version": reported_version(spk), "target": want.get(spk.id),
                        "state": a.state if a else None, "detail": a.detail if a else None,
                        "attempt_version": a.version if a else None}
    targeted = [r for r in rows.values() if r["target"]]
    return {"speakers": rows, "targeted": len(targeted),
            "done": sum(1 for r in targeted if r["version"] == r["target"]),
            "failed": sum(1 for r in targeted if r["state"] in FAILED_STATES
                          and r["attempt_version"] == r["target"])}
