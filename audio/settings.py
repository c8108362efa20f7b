"""Frozen settings for speech synthesis, mastering and uploads (one docstring per field)."""

from __future__ import annotations

from dataclasses import dataclass

# Bumped whenever the rendering pipeline changes what it produces, so cached audio
# made by an older pipeline is never served for the new one.
PIPELINE_VERSION = "2"

DIALECTS = ("south", "north")
ENGINE_NAMES = ("gtts", "espeak", "piper")


@dataclass(frozen=True)
class SpeechSettings:
    """How text becomes speech: which engines, in which order, and their options."""

    engines: tuple[str, ...] = ("gtts", "espeak")
    """Engines tried in order until one speaks: "gtts", "espeak", "piper"."""
    dialect: str = "south"
    """"south" or "north": number words in the normalizer and the espeak-ng voice."""
    gtts_timeout: float = 10.0
    """Seconds gTTS may wait for Google per HTTP request (gTTS's own default is forever)."""
    gtts_retries: int = 2
    """Extra gTTS attempts after the first failure, with exponential backoff."""
    gtts_backoff_s: float = 0.5
    """Wait before the first gTTS retry; doubled for each further retry."""
    espeak_speed: int = 150
    """espeak-ng speaking rate in words per minute."""
    espeak_voice: str | None = None
    """espeak-ng voice; None picks "vi-vn-x-south" for south and "vi" for north."""
    piper_binary: str | None = None
    """Path or name of a user-installed Piper binary (Piper is optional)."""
    piper_model: str | None = None
    """Path of the Piper .onnx voice model the user supplies."""
    engine_retry_s: float = 300.0
    """After an engine fails, renders skip it for this many seconds before trying it again."""
    emergency_budget_s: float = 1.0
    """An emergency waits at most this long for the first (online) engine; the offline voice,
    rendered meanwhile, speaks otherwise."""

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"speech.dialect must be one of {DIALECTS}, not {self.dialect!r}")
        unknown = [e for e in self.engines if e not in ENGINE_NAMES]
        if unknown or not self.engines:
            raise ValueError(
                f"speech.engines must be a non-empty list of {ENGINE_NAMES}, not {self.engines!r}"
            )

    @property
    def resolved_espeak_voice(self) -> str:
        """The espeak-ng voice actually used (voice names checked with `espeak-ng --voices=vi`)."""
        if self.espeak_voice:
            return self.espeak_voice
        return "vi-vn-x-south" if self.dialect == "south" else "vi"


@dataclass(frozen=True)
class MasterSettings:
    """How raw speech or an upload becomes a broadcast-ready MP3."""

    target_lufs: float = -16.0
    """Integrated loudness target (ITU-R BS.1770), so every announcement is equally loud."""
    true_peak_db: float = -1.0
    """Ceiling for the true peak in dBTP, measured on the final MP3."""
    bitrate: str = "64k"
    """MP3 bitrate (mono)."""
    chime: bool = False
    """Play the project's own chime before and after the announcement."""
    lead_in_ms: int = 300
    """Silence before the first sound, so amplifiers that switch on late clip nothing."""
    lead_out_ms: int = 500
    """Silence after the last sound."""
    repeat: int = 1
    """How many times the announcement is spoken."""
    gap_ms: int = 1500
    """Silence between repetitions."""
    trim_silence: bool = True
    """Cut leading and trailing silence from the source before adding our own."""
    sample_rate: int = 44100
    """Sample rate of the MP3."""

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError(f"master.repeat must be at least 1, not {self.repeat}")
        if min(self.lead_in_ms, self.lead_out_ms, self.gap_ms) < 0:
            raise ValueError("master.lead_in_ms, lead_out_ms and gap_ms must not be negative")
        if self.true_peak_db > 0 or self.target_lufs >= self.true_peak_db:
            raise ValueError("master.target_lufs must be below master.true_peak_db, which must be <= 0")


@dataclass(frozen=True)
class UploadLimits:
    """Limits on uploaded audio files."""

    max_bytes: int = 50 * 1024 * 1024
    """Largest accepted upload in bytes."""
    max_duration_s: float = 900.0
    """Longest accepted upload in seconds."""
    decode_timeout_s: float = 60.0
    """Seconds ffprobe/ffmpeg may spend on an upload before it is rejected."""
