"""Mastering: trim, chime, repeat, lead-in/out, loudness to target with a true-peak ceiling, mono MP3."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

# pydub imports the stdlib `audioop`, which warns with a DeprecationWarning on 3.11/3.12
# and is gone in 3.13; there the `audioop-lts` package (pinned in pyproject) provides it.
from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from audio import ffmpeg_adapter as ff
from audio import loudness
from audio.chime import make_chime
from audio.settings import MasterSettings

# Keep this much of the silence we trim, so soft consonant onsets are not cut.
TRIM_KEEP_MS = 40
# Silence is anything this far below the loudest peak (relative, so quiet recordings trim too).
TRIM_BELOW_PEAK_DB = 45.0
# Horn speakers reproduce roughly this band; energy outside it is wasted amplifier power.
# Band-limiting before measuring also keeps the MP3 encoder's own low-pass from removing
# energy after we measured it (-0.5 LU) and from making peaks ring over the ceiling (+1.3 dB).
HIGHPASS_HZ = 100
LOWPASS_HZ = 11000
# The known MP3 shift, corrected by aiming off before the single encode instead of measuring
# and re-encoding: MP3 peaks come out up to this much above the samples we encode (+0.9 dB
# measured with the chime, whose pure tones the encoder rings on) ...
MP3_PEAK_OVERSHOOT_DB = 1.2
# ... and the MP3 reads this much louder than they do (ebur128 on the MP3 vs pyloudnorm on the
# samples, measured on espeak-ng speech, 300 words, both voices, 64 and 96 kbit/s: the MP3 read
# 0.4-0.5 LU quieter every time).
MP3_LOUDNESS_SHIFT_LU = -0.45
# Below this the programme is silence: there is nothing to normalize.
SILENT_LUFS = -60.0


def trim(seg: AudioSegment) -> AudioSegment:
    """Cut leading and trailing silence, keeping a few milliseconds of each."""
    if len(seg) == 0 or seg.max_dBFS == float("-inf"):
        return seg
    threshold = seg.max_dBFS - TRIM_BELOW_PEAK_DB
    start = max(0, detect_leading_silence(seg, silence_threshold=threshold, chunk_size=5) - TRIM_KEEP_MS)
    end = max(
        0, detect_leading_silence(seg.reverse(), silence_threshold=threshold, chunk_size=5) - TRIM_KEEP_MS
    )
    return seg[start : len(seg) - end]


def arrange(speech: AudioSegment, settings: MasterSettings) -> AudioSegment:
    """Lay out lead-in, chime, the speech N times with gaps, chime, lead-out."""
    rate = settings.sample_rate
    speech = speech.set_channels(1).set_frame_rate(rate).set_sample_width(2)
    if settings.trim_silence:
        speech = trim(speech)
    body = speech
    for _ in range(settings.repeat - 1):
        body = body + AudioSegment.silent(duration=settings.gap_ms, frame_rate=rate) + speech
    if settings.chime:
        chime = make_chime(rate, speech.dBFS)
        # The chime ends with its own pause; mirror it so the closing chime is not glued on.
        body = chime + body + AudioSegment.silent(duration=250, frame_rate=rate) + chime[:-250]
    lead_in = AudioSegment.silent(duration=settings.lead_in_ms, frame_rate=rate)
    lead_out = AudioSegment.silent(duration=settings.lead_out_ms, frame_rate=rate)
    return lead_in + body + lead_out


def master_file(src: Path, dst: Path, settings: MasterSettings, decode_timeout: float | None = None) -> None:
    """Master any audio file ffmpeg can read into a loudness-normalized mono MP3 at dst."""
    with tempfile.TemporaryDirectory(prefix="master-", dir=dst.parent) as tmp:
        work = Path(tmp)
        decoded = work / "decoded.wav"
        ff.decode_to_wav(src, decoded, settings.sample_rate, timeout=decode_timeout or ff.DEFAULT_TIMEOUT_S)
        master_wav(decoded, dst, settings, work)


def master_wav(src_wav: Path, dst: Path, settings: MasterSettings, work: Path) -> None:
    """Master a 16-bit WAV (as decode_to_wav writes) into dst; `work` is kept for the caller."""
    programme = arrange(AudioSegment.from_wav(str(src_wav)), settings)
    # float32 halves the memory traffic of every in-memory pass; loudness sums run in float64.
    samples = np.array(programme.get_array_of_samples(), dtype=np.float32) / np.float32(32768.0)
    tmp = dst.with_name(dst.name + ".part")
    ff.encode_mp3_samples(
        _normalize(samples, settings), tmp, sample_rate=settings.sample_rate, bitrate=settings.bitrate
    )
    tmp.replace(dst)


def _normalize(x: np.ndarray, settings: MasterSettings) -> np.ndarray:
    """Band-limit, then gain to the target loudness under the true-peak ceiling, in memory."""
    rate = settings.sample_rate
    return loudness.fit(
        loudness.band_limit(x, rate, HIGHPASS_HZ, LOWPASS_HZ),
        rate,
        settings.target_lufs - MP3_LOUDNESS_SHIFT_LU,
        settings.true_peak_db - MP3_PEAK_OVERSHOOT_DB,
        SILENT_LUFS,
    )
