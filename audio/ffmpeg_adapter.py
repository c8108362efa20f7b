"""The only module that runs ffmpeg and ffprobe (besides pydub's own use of them)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

# Generous default for our own, trusted intermediate files; uploads pass their own limit.
DEFAULT_TIMEOUT_S = 300.0


class FfmpegError(Exception):
    """ffmpeg or ffprobe failed; the message carries the tool's own last error lines."""


class FfmpegTimeout(FfmpegError):
    """ffmpeg or ffprobe ran past its time limit and was killed."""


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FfmpegTimeout(f"{args[0]} took longer than {timeout:g} s") from exc
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise FfmpegError(f"{args[0]} exited with {proc.returncode}: {tail}")
    return proc


# Untrusted input may only use these demuxers, read as a plain local file. Without this
# an uploaded HLS playlist or concat script makes ffmpeg open other files or URLs.
UPLOAD_INPUT_OPTS = [
    "-format_whitelist",
    "mp3,wav,ogg,mov,mp4,m4a,3gp,3g2,mj2,aac,flac,matroska,webm",
    "-protocol_whitelist",
    "file",
]


def probe(path: Path, timeout: float = DEFAULT_TIMEOUT_S, input_opts: list[str] | None = None) -> dict:
    """ffprobe's JSON view (format + streams) of a file; raises FfmpegError if unreadable."""
    proc = _run(
        [
            "ffprobe",
            "-v",
            "error",
            *(input_opts or []),
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            str(path),
        ],
        timeout,
    )
    return json.loads(proc.stdout or "{}")


def probe_duration_ms(path: Path, timeout: float = DEFAULT_TIMEOUT_S) -> int:
    """Duration of a media file in milliseconds, as ffprobe reports it."""
    info = probe(path, timeout)
    duration = info.get("format", {}).get("duration")
    if duration in (None, "N/A"):
        raise FfmpegError(f"ffprobe reports no duration for {path.name}")
    return round(float(duration) * 1000)


def decode_to_wav(
    src: Path,
    dst: Path,
    sample_rate: int,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_seconds: float | None = None,
    input_opts: list[str] | None = None,
) -> None:
    """Decode any audio ffmpeg reads into 16-bit mono WAV (what pydub reads without ffmpeg)."""
    args = [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-y",
        *(input_opts or []),
        "-i",
        str(src),
        "-vn",
    ]
    if max_seconds is not None:
        # Stop decoding just past the limit: a file that lies about its length
        # in the header cannot make us decode hours of audio.
        args += ["-t", f"{max_seconds:.3f}"]
    args += ["-ac", "1", "-ar", str(sample_rate), "-c:a", "pcm_s16le", "-f", "wav", str(dst)]
    _run(args, timeout)


def encode_mp3_samples(samples, dst: Path, *, sample_rate: int, bitrate: str) -> None:
    """Encode mono float samples (a numpy array in -1..1) to MP3 in one ffmpeg run, via stdin."""
    _run_bytes(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
         "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
         # LAME quality 7 ("fast") costs a third of the default's CPU (measured: 0.5 s vs 1.35 s
         # for 107 s of speech) with no audible loss for speech at 64 kbit/s on horn speakers.
         "-c:a", "libmp3lame", "-b:a", bitrate, "-compression_level", "7", "-f", "mp3", str(dst)],
        samples.astype("<f4").tobytes(),
        DEFAULT_TIMEOUT_S,
    )


def _run_bytes(args: list[str], stdin: bytes, timeout: float) -> None:
    # -nostdin only stops ffmpeg's key handling; "-i pipe:0" still reads the samples.
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FfmpegTimeout(f"{args[0]} took longer than {timeout:g} s") from exc
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
        raise FfmpegError(f"{args[0]} exited with {proc.returncode}: {tail}")
