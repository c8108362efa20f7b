"""Per-speaker actions from the fleet page: volume, stop, test tone; and the fleet snapshot."""

from __future__ import annotations

import tempfile
from pathlib import Path

from controller import commands
from controller.models import User
from controller.services import announcements, audit, broadcasts, registry
from controller.services.errors import Forbidden, ServiceError

ACTION_ROLES = ("admin", "approver", "editor")
TEST_TONE_TITLE = "Âm thử / test tone"
TEST_TONE_CHIMES = 3


def _check(user: User) -> None:
    if user.role not in ACTION_ROLES:
        raise Forbidden("forbidden_role", "viewers cannot control speakers")


def _publish(ctx, speaker_id: str, kind: str, volume: int | None = None) -> str:
    try:
        return commands.send(ctx, speaker_id, kind, volume)
    except commands.NoBroker:
        raise ServiceError("no_broker", "the controller is not connected to the broker") from None


def set_volume(ctx, speaker_id: str, level, user: User) -> str:
    """Send a volume command (0-100); audited."""
    _check(user)
    try:
        level = int(str(level).strip())
    except ValueError:
        raise ServiceError("bad_volume", "volume must be a whole number", field="volume") from None
    if not 0 <= level <= 100:
        raise ServiceError("bad_volume", "volume must be between 0 and 100", field="volume")
    with ctx.db.session() as s:
        registry.get_visible_speaker(s, speaker_id, user)
    cid = _publish(ctx, speaker_id, "volume", level)
    with ctx.db.session() as s:
        audit.record(s, "speaker_volume", actor=user.username, target=f"speaker:{speaker_id}",
                     detail=f"volume={level} command={cid}")
    return cid


def stop(ctx, speaker_id: str, user: User) -> str:
    """Stop whatever a speaker is playing; audited."""
    _check(user)
    with ctx.db.session() as s:
        registry.get_visible_speaker(s, speaker_id, user)
    cid = _publish(ctx, speaker_id, "stop")
    with ctx.db.session() as s:
        audit.record(s, "speaker_stop", actor=user.username, target=f"speaker:{speaker_id}",
                     detail=f"command={cid}")
    return cid


def _tone_file(work: Path, sample_rate: int) -> Path:
    """A WAV of the project's own chime, a few times over (pydub writes WAV without ffmpeg)."""
    from audio.chime import make_chime

    chime = make_chime(sample_rate)
    tone = chime * TEST_TONE_CHIMES
    out = work / "test-tone.wav"
    tone.export(out, format="wav")
    return out


def test_tone(ctx, speaker_id: str, user: User) -> int:
    """Play a short test tone on one speaker: a normal broadcast of a generated announcement."""
    _check(user)
    from audio.render import render_upload
    from audio.settings import UploadLimits
    from controller.speech import master_settings

    with ctx.db.session() as s:
        registry.get_visible_speaker(s, speaker_id, user)
    master = master_settings(ctx.settings)
    with tempfile.TemporaryDirectory() as tmp:
        rendered = render_upload(_tone_file(Path(tmp), master.sample_rate), master, UploadLimits(),
                                 ctx.cache_dir)
    with ctx.db.session() as s:
        spk = registry.get_visible_speaker(s, speaker_id, user)
        user = s.merge(user)
        # A test tone is a technician's signal, not content: approved by the sender, who is audited.
        ann = announcements.create(s, ctx, title=TEST_TONE_TITLE, text=None, rendered=rendered,
                                   source="tone", user=user, approved=True)
        b = broadcasts.create(s, announcement=ann, speakers=[spk], priority="normal", user=user,
                              ttl_s=120)
        audit.record(s, "speaker_test_tone", actor=user.username, target=f"speaker:{speaker_id}",
                     detail=f"broadcast={b.id}")
        bid = b.id
    ctx.kick()
    return bid
