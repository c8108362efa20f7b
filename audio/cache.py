"""Content-addressed cache of rendered MP3s: same inputs, same key, no second synthesis."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from audio import ffmpeg_adapter as ff
from audio.settings import PIPELINE_VERSION, MasterSettings, SpeechSettings
from protocol.digest import sha256_file as file_sha256  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Rendered:
    """A finished, mastered MP3 and what made it."""

    mp3_path: Path
    sha256: str
    bytes: int
    duration_ms: int
    engine: str
    """Engine that spoke ("gtts", "espeak", "piper"), or "upload" for uploaded audio."""
    spoken_text: str
    """The normalized text the engine read ("" for uploads)."""
    cached: bool


TIMING_FIELDS = ("engine_retry_s", "emergency_budget_s")


def _digest(payload: dict) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def text_key(spoken_text: str, speech: SpeechSettings, master: MasterSettings) -> str:
    """Key for synthesized speech: normalized text, engines, voice, every option, pipeline version."""
    return _digest(
        {
            "kind": "tts",
            "pipeline": PIPELINE_VERSION,
            "text": spoken_text,
            # When engines are skipped or raced changes nothing in the audio an engine makes.
            "speech": {k: v for k, v in dataclasses.asdict(speech).items() if k not in TIMING_FIELDS},
            "espeak_voice": speech.resolved_espeak_voice,
            "master": dataclasses.asdict(master),
        }
    )


def upload_key(source_sha256: str, master: MasterSettings) -> str:
    """Key for a mastered upload: the source file's hash, every option, pipeline version."""
    return _digest(
        {
            "kind": "upload",
            "pipeline": PIPELINE_VERSION,
            "source": source_sha256,
            "master": dataclasses.asdict(master),
        }
    )


def _paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    folder = cache_dir / key[:2]
    return folder / f"{key}.mp3", folder / f"{key}.json"


def lookup(cache_dir: Path, key: str) -> Rendered | None:
    """The cached rendering for key, or None (a half-written entry counts as missing)."""
    mp3, meta_path = _paths(cache_dir, key)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        size = mp3.stat().st_size
    except (OSError, ValueError):
        return None
    if size != meta.get("bytes"):
        return None
    return Rendered(mp3, meta["sha256"], size, meta["duration_ms"], meta["engine"], meta["spoken_text"], True)


def store(cache_dir: Path, key: str, mp3_tmp: Path, *, engine: str, spoken_text: str) -> Rendered:
    """Move a finished MP3 into the cache under key, then write its metadata."""
    mp3, meta_path = _paths(cache_dir, key)
    mp3.parent.mkdir(parents=True, exist_ok=True)
    sha = file_sha256(mp3_tmp)
    size = mp3_tmp.stat().st_size
    duration_ms = ff.probe_duration_ms(mp3_tmp)
    os.replace(mp3_tmp, mp3)
    # Metadata last: lookup() trusts an entry only once its metadata exists.
    meta = {
        "sha256": sha,
        "bytes": size,
        "duration_ms": duration_ms,
        "engine": engine,
        "spoken_text": spoken_text,
    }
    part = meta_path.with_name(meta_path.name + ".part")
    part.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    os.replace(part, meta_path)
    return Rendered(mp3, sha, size, duration_ms, engine, spoken_text, False)


@contextlib.contextmanager
def workdir(cache_dir: Path) -> Iterator[Path]:
    """A scratch directory on the cache's filesystem (so the final rename is atomic), removed after."""
    tmp_root = cache_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="render-", dir=tmp_root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
