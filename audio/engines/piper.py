"""Piper adapter: an optional neural voice with a binary and model the user installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from audio.engines.base import EngineError, part_path, publish

TIMEOUT_S = 300.0


class PiperEngine:
    """Piper (https://github.com/rhasspy/piper) run as a subprocess."""

    name = "piper"
    suffix = ".wav"

    def __init__(self, binary: str | None, model: str | None) -> None:
        self.binary = binary
        self.model = model

    def synthesize(self, text: str, out_path: Path) -> None:
        """Speak text into a WAV file with the user's Piper model."""
        if not self.binary or not self.model:
            raise EngineError("Piper is not configured: set speech.piper_binary and speech.piper_model")
        exe = shutil.which(self.binary)
        if exe is None:
            raise EngineError(f"Piper binary not found: {self.binary}")
        if not Path(self.model).is_file():
            raise EngineError(f"Piper voice model not found: {self.model}")
        tmp = part_path(out_path)
        try:
            proc = subprocess.run(
                [exe, "--model", self.model, "--output_file", str(tmp)],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            tmp.unlink(missing_ok=True)
            raise EngineError(f"Piper took longer than {TIMEOUT_S:g} s") from exc
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            detail = proc.stderr.decode("utf-8", "replace").strip()[-300:]
            raise EngineError(f"Piper exited with {proc.returncode}: {detail}")
        publish(tmp, out_path, self.name)
