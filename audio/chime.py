"""The project's own two-tone chime, synthesized with pydub's generators (no third-party audio)."""

from __future__ import annotations

from pydub import AudioSegment
from pydub.generators import Sine

# A descending major third ("ding-dong"), like the chimes villagers know from station PAs.
TONES_HZ = (784.0, 622.3)
TONE_MS = 450
PAUSE_AFTER_MS = 250
CHIME_MS = TONE_MS * len(TONES_HZ) + PAUSE_AFTER_MS
"""Length of one chime including the short pause that separates it from speech."""


def _tone(freq: float, sample_rate: int) -> AudioSegment:
    # A fundamental plus a quieter octave gives a bell-like colour; a fast attack and
    # a long fade stand in for a struck bell's envelope.
    base = Sine(freq, sample_rate=sample_rate).to_audio_segment(duration=TONE_MS, volume=-6.0)
    octave = Sine(freq * 2, sample_rate=sample_rate).to_audio_segment(duration=TONE_MS, volume=-18.0)
    return base.overlay(octave).fade_in(8).fade_out(TONE_MS - 60)


def make_chime(sample_rate: int, match_dbfs: float | None = None) -> AudioSegment:
    """One mono chime of CHIME_MS, at about the RMS level `match_dbfs` if given."""
    chime = AudioSegment.empty()
    for freq in TONES_HZ:
        chime += _tone(freq, sample_rate)
    chime = chime.set_channels(1).set_sample_width(2)
    if match_dbfs is not None and match_dbfs != float("-inf"):
        # Roughly as loud as the speech it frames; loudness mastering follows anyway.
        chime = chime.apply_gain(match_dbfs - chime.dBFS - 3.0)
    return chime + AudioSegment.silent(duration=PAUSE_AFTER_MS, frame_rate=sample_rate)
