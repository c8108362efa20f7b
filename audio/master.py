"""Mastering: trim, chime, repeat, lead-in/out, loudness to target with a true-peak ceiling, mono MP3."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

# pydub imports the stdlib `audioop`, which warns with a DeprecationWarning on 3.11/3.12
# and is gone in 3.13; there the `audioop-lts` package (pinned in pyproject) provides it.
from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from audio import ffmpeg_adapter as ff
from audio.chime import make_chime
from audio.settings import MasterSettings

# Keep this much of the silence we trim, so soft consonant onsets are not cut.
TRIM_KEEP_MS = 40
# Silence is anything this far below the loudest peak (relative, so quiet recordings trim too).
TRIM_BELOW_PEAK_DB = 45.0
# The second loudnorm pass aims this far under the true-peak ceiling: MP3 encoding
# overshoots peaks a little, and the ceiling is checked on the MP3.
ENCODER_MARGIN_DB = 0.5
# Speech from espeak-ng and phones has a peak-to-loudness ratio near 19 dB, but -16 LUFS
# under a -1 dBTP ceiling allows only 15. loudnorm's dynamic fallback then misses the target
# by ~2 LU (measured), so peaks are limited first to keep this much headroom for linear gain.
# Limiting a few dB of speech peaks also helps intelligibility through horn speakers.
PLR_HEADROOM_DB = 2.0
# Horn speakers reproduce roughly this band; energy outside it is wasted amplifier power.
HIGHPASS_HZ = 100
LOWPASS_HZ = 11000
# Encode-and-measure attempts before accepting the closest result.
ENCODE_ROUNDS = 3
# Rounds of limit-and-measure before giving up and letting loudnorm go dynamic.
LIMIT_ROUNDS = 4
# The MP3 is re-encoded if its loudness is further than this from the target.
LOUDNESS_TOLERANCE_LU = 0.3
# How far under the ceiling a corrective re-encode aims its true peak.
PEAK_SAFETY_DB = 0.2
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
    """Master a 16-bit WAV (as decode_to_wav writes) into dst; `work` holds intermediates."""
    programme = arrange(AudioSegment.from_wav(str(src_wav)), settings)
    arranged = work / "arranged.wav"
    programme.export(str(arranged), format="wav")
    _normalize_and_encode(arranged, dst, settings, work)


def _normalize_and_encode(arranged: Path, dst: Path, settings: MasterSettings, work: Path) -> None:
    target, limit = settings.target_lufs, settings.true_peak_db
    ceiling = limit - ENCODER_MARGIN_DB
    tmp = dst.with_name(dst.name + ".part")
    # Band-limit first: the MP3 encoder's own low-pass otherwise removes energy after we
    # measured it (measured: -0.5 LU) and makes peaks ring over the ceiling (+1.3 dB).
    banded = work / "banded.wav"
    ff.band_limit(arranged, banded, HIGHPASS_HZ, LOWPASS_HZ)
    arranged = banded
    measured = ff.measure_loudness(arranged)
    if not math.isfinite(measured.integrated) or measured.integrated < SILENT_LUFS:
        ff.encode_mp3(arranged, tmp, sample_rate=settings.sample_rate, bitrate=settings.bitrate)
        tmp.replace(dst)
        return
    source, measured = _limit_if_needed(
        arranged, measured, ceiling - target - PLR_HEADROOM_DB, settings, work
    )
    # Check what listeners get, the MP3 itself, and correct from its own measurement:
    # encoding shifts loudness and peaks a little. Peaks win over loudness when both miss.
    shift = 0.0
    for _ in range(ENCODE_ROUNDS):
        ff.encode_mp3(
            source,
            tmp,
            sample_rate=settings.sample_rate,
            bitrate=settings.bitrate,
            loudnorm=(target + shift, limit, measured),
        )
        result = ff.measure_loudness(tmp)
        if abs(target - result.integrated) <= LOUDNESS_TOLERANCE_LU and result.true_peak <= limit:
            break
        shift += min(target - result.integrated, limit - PEAK_SAFETY_DB - result.true_peak)
    tmp.replace(dst)


def _limit_if_needed(
    arranged: Path, measured: ff.Loudness, max_plr: float, settings: MasterSettings, work: Path
) -> tuple[Path, ff.Loudness]:
    """Limit peaks until peak-to-loudness ratio fits max_plr, so the loudnorm pass can stay linear."""
    if measured.true_peak - measured.integrated <= max_plr:
        return arranged, measured
    limited = work / "limited.wav"
    # Gain brings the wanted peak level to -3 dBFS, where the limiter sits (alimiter
    # cannot limit below -24 dBFS). Limiting also lowers loudness (by ~3 LU on espeak-ng
    # speech), so repeat with more gain until the ratio fits.
    gain = -3.0 - (measured.integrated + max_plr)
    for _ in range(LIMIT_ROUNDS):
        ff.limit_peaks(arranged, limited, gain, -3.0, settings.sample_rate)
        measured = ff.measure_loudness(limited)
        excess = measured.true_peak - measured.integrated - max_plr
        # Half a dB over is still well inside what the linear pass tolerates.
        if excess <= 0.5:
            break
        # Each round removes only about half the excess (measured), so overshoot the step.
        gain += 2 * excess + 0.2
    return limited, measured
