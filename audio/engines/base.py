"""The Engine protocol every speech engine adapter implements."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class EngineError(Exception):
    """An engine could not speak this text; the chain moves on to the next engine."""


class Engine(Protocol):
    """Turns normalized Vietnamese text into an audio file."""

    name: str
    """Short name recorded as the engine that spoke ("gtts", "espeak", "piper")."""
    suffix: str
    """File suffix of what synthesize writes (".mp3", ".wav")."""

    def synthesize(self, text: str, out_path: Path) -> None:
        """Write speech for `text` to out_path, atomically; raise EngineError on failure."""


def part_path(out_path: Path) -> Path:
    """Temporary sibling path for an atomic write."""
    return out_path.with_name(out_path.name + ".part")


def publish(tmp: Path, out_path: Path, engine: str) -> None:
    """Rename a finished temp file into place, refusing empty output."""
    if not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise EngineError(f"{engine} produced no audio")
    os.replace(tmp, out_path)
