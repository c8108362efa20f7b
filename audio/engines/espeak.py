"""espeak-ng adapter: the offline Vietnamese voice (always available on the controller)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from audio.engines.base import EngineError, part_path, publish

# espeak-ng renders 300 words in well under a second here; this only stops a hung process.
TIMEOUT_S = 120.0


class EspeakEngine:
    """espeak-ng with a Vietnamese voice ("vi-vn-x-south" or "vi")."""

    name = "espeak"
    suffix = ".wav"

    def __init__(self, voice: str, speed: int) -> None:
        self.voice = voice
        self.speed = speed

    def synthesize(self, text: str, out_path: Path) -> None:
        """Speak text into a WAV file."""
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
