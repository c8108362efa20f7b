"""Volume behind one interface: amixer on the Pi, a recorded level for the file sink."""

from __future__ import annotations

import shutil
import subprocess

from speaker_agent.config import VolumeSettings


class Mixer:
    """Sets the output level in percent; `level` is the last one set."""

    level: int | None = None

    def set(self, level: int) -> None:
        """Apply a level (0-100)."""
        self.level = level

    def check(self) -> str:
        """Raise RuntimeError unless the mixer works; describe it otherwise."""
        return "volume is applied by the file sink"


class RecordingMixer(Mixer):
    """For the file sink: the player applies the level as an ffmpeg gain and notes it per playback."""


class AmixerMixer(Mixer):
    """The ALSA mixer through `amixer sset <control> <n>%`."""

    def __init__(self, control: str, card: str = ""):
        self.control = control
        self.card = card

    def _base(self) -> list[str]:
        return ["amixer", "-q"] + (["-c", self.card] if self.card else [])

    def set(self, level: int) -> None:
        """Set the control; RuntimeError with amixer's message if it fails."""
        proc = subprocess.run([*self._base(), "sset", self.control, f"{level}%"],
                              capture_output=True, text=True, timeout=10)
        if proc.returncode != 0:
            raise RuntimeError(f"amixer could not set {self.control}: {proc.stderr.strip()[:200]}")
        self.level = level

    def check(self) -> str:
        """amixer exists and knows the control."""
        if not shutil.which("amixer"):
            raise RuntimeError("amixer is not installed (apt-get install alsa-utils)")
        proc = subprocess.run([*self._base(), "sget", self.control], capture_output=True, text=True,
                              timeout=10)
        if proc.returncode != 0:
            raise RuntimeError(f"mixer control {self.control!r} not found: {proc.stderr.strip()[:200]}")
        return f"mixer control {self.control!r} found"


def make_mixer(backend: str, settings: VolumeSettings) -> Mixer:
    """amixer for the alsa backend, a recording mixer for the file sink."""
    if backend == "alsa":
        return AmixerMixer(settings.mixer_control, settings.mixer_card)
    return RecordingMixer()


def level_for(priority: str, base: int, settings: VolumeSettings) -> int:
    """The volume for a priority: emergencies louder, normal at the (remotely set) base level."""
    if priority == "emergency":
        return settings.emergency
    if priority == "priority":
        return settings.priority
    return base
