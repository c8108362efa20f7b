"""Checks and decoding for uploaded audio: every rejection is an AudioError with a clear message."""

from __future__ import annotations

import wave
from pathlib import Path

from audio import ffmpeg_adapter as ff
from audio.errors import AudioError
from audio.settings import UploadLimits

# A decode this much shorter than the header promised means the file was cut off.
TRUNCATED_RATIO = 0.95
TRUNCATED_SLACK_S = 0.5
# Less decoded sound than this is no announcement.
MIN_SOUND_S = 0.1


def check_size(src: Path, limits: UploadLimits) -> int:
    """Reject empty and over-large files before anything reads them; return the size."""
    size = src.stat().st_size
    if size == 0:
        raise AudioError("empty", "the uploaded file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise AudioError(
            "too_large", f"the uploaded file is {size} bytes, more than the limit of {limits.max_bytes} bytes"
        )
    return size


def probe_upload(src: Path, limits: UploadLimits) -> float | None:
    """Check the file is audio in an accepted format; return its header duration in seconds if known."""
    try:
        info = ff.probe(src, timeout=limits.decode_timeout_s, input_opts=ff.UPLOAD_INPUT_OPTS)
    except ff.FfmpegTimeout as exc:
        raise AudioError(
            "decode_timeout", f"reading the file took longer than {limits.decode_timeout_s:g} s"
        ) from exc
    except ff.FfmpegError as exc:
        raise AudioError(
            "not_audio",
            "the file is not audio in a supported format (mp3, wav, ogg, m4a/aac, flac, webm/opus)",
        ) from exc
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise AudioError("not_audio", "the file has no audio in it")
    # Browser recordings (webm/opus from MediaRecorder) often carry no duration at all.
    for raw in (info.get("format", {}).get("duration"), streams[0].get("duration")):
        if raw not in (None, "N/A"):
            duration = float(raw)
            if duration > limits.max_duration_s:
                raise AudioError(
                    "too_long",
                    f"the audio lasts {duration:.0f} s, more than the limit of {limits.max_duration_s:g} s",
                )
            return duration
    return None


def decode_upload(src: Path, dst_wav: Path, limits: UploadLimits, sample_rate: int) -> float:
    """Decode a probed upload to mono WAV under the time limit; return the decoded length in seconds."""
    header_s = probe_upload(src, limits)
    try:
        # Decode a little past the limit: enough to tell "too long" from "just right".
        ff.decode_to_wav(
            src,
            dst_wav,
            sample_rate,
            timeout=limits.decode_timeout_s,
            max_seconds=limits.max_duration_s + 1.0,
            input_opts=ff.UPLOAD_INPUT_OPTS,
        )
    except ff.FfmpegTimeout as exc:
        raise AudioError(
            "decode_timeout", f"decoding took longer than {limits.decode_timeout_s:g} s"
        ) from exc
    except ff.FfmpegError as exc:
        raise AudioError(
            "truncated", "the audio could not be decoded; the file is damaged or cut off"
        ) from exc
    with wave.open(str(dst_wav), "rb") as w:
        decoded_s = w.getnframes() / w.getframerate()
    if decoded_s > limits.max_duration_s:
        raise AudioError("too_long", f"the audio lasts more than the limit of {limits.max_duration_s:g} s")
    if decoded_s < MIN_SOUND_S:
        raise AudioError("empty", "the file contains no sound")
    if header_s is not None and decoded_s < header_s * TRUNCATED_RATIO - TRUNCATED_SLACK_S:
        raise AudioError(
            "truncated",
            f"the file is cut off: its header says {header_s:.1f} s"
            f" but only {decoded_s:.1f} s could be decoded",
        )
    return decoded_s
