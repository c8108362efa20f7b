"""espeak-ng adapter: the offline Vietnamese voice (always available on the controller)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from audio.engines.base import EngineError, part_path, publish

# espeak-ng renders 300 words in well under a second here; this only stops a hung process.
TIMEOUT_S = 120.0


@functools.lru_cache(maxsize=1)
def known_voices() -> frozenset[str]:
    """Language and file names of every installed espeak-ng voice, lower-cased."""
    listing = subprocess.run(
        ["espeak-ng", "--voices"], capture_output=True, text=True, timeout=30, check=True
    )
    names = set()
    for line in listing.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names.add(cols[1].lower())
            names.add(cols[4].lower().rsplit("/", 1)[-1])
    return frozenset(names)


class EspeakEngine:
    """espeak-ng with a Vietnamese voice ("vi-vn-x-south" or "vi")."""

    name = "espeak"
    suffix = ".wav"

    def __init__(self, voice: str, speed: int) -> None:
        self.voice = voice
        self.speed = speed

    def synthesize(self, text: str, out_path: Path) -> None:
        """Speak text into a WAV file."""
        # espeak-ng reading --stdin silently falls back to its default (English) voice for
        # an unknown voice name and still exits 0 (found here), so check the name ourselves.
        try:
            voices = known_voices()
        except (OSError, subprocess.SubprocessError) as exc:
            raise EngineError(f"espeak-ng cannot list its voices: {exc}") from exc
        if self.voice.split("+", 1)[0].lower() not in voices:
            raise EngineError(f"espeak-ng has no voice named {self.voice!r} (see `espeak-ng --voices=vi`)")
        tmp = part_path(out_path)
        # Text goes in on stdin, so a text starting with "-" is never read as an option
        # and long texts meet no argument-length limit. "-b 1" says stdin is UTF-8.
        args = ["espeak-ng", "-v", self.voice, "-s", str(self.speed), "-b", "1", "-w", str(tmp), "--stdin"]
        try:
            proc = subprocess.run(
                args, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_S, check=False
            )
        except FileNotFoundError as exc:
            raise EngineError("espeak-ng is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            tmp.unlink(missing_ok=True)
            raise EngineError(f"espeak-ng took longer than {TIMEOUT_S:g} s") from exc
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            detail = proc.stderr.decode("utf-8", "replace").strip()
            raise EngineError(f"espeak-ng exited with {proc.returncode}: {detail}")
        publish(tmp, out_path, self.name)
