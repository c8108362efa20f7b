"""Asking ffprobe what an upstream URL carries, before it is saved as a source.

Time-limited (a station that hangs must not hang the request) and restricted to network
protocols a station uses: http(s), HLS and what they ride on. file:, concat:, pipe: and the
rest are refused, so a source URL can never make the controller read its own disk.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from controller.relay_pipeline import FAST_OPEN

PROTOCOLS = "http,https,tls,tcp,hls,crypto"
AUDIO_CODECS = ("mp3", "aac", "opus", "vorbis")
"""What a relay accepts: MP3, AAC (also in HLS) and Opus streams (Vorbis in Ogg too)."""


@dataclass(frozen=True)
class ProbeResult:
    """What ffprobe found, or the problem (`error`, in English, for logs and the API)."""

    ok: bool
    error: str | None = None
    code: str | None = None
    """source_unreachable, source_not_audio or source_unsupported_codec."""
    format_name: str | None = None
    codec: str | None = None
    bitrate: int | None = None


def probe(url: str, timeout_s: float = 8.0) -> ProbeResult:
    """Probe an upstream URL; never raises for a bad station."""
    cmd = ["ffprobe", "-v", "error", "-protocol_whitelist", PROTOCOLS,
           "-rw_timeout", str(int(timeout_s * 1_000_000 * 0.75)), *FAST_OPEN,
           "-show_entries", "stream=codec_type,codec_name,bit_rate:format=format_name,bit_rate",
           "-of", "json", url]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"no answer within {timeout_s:.0f} s", "source_unreachable")
    stderr = " ".join(line.strip() for line in out.stderr.splitlines()[-2:])[:300]
    try:
        info = json.loads(out.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    audio = [st for st in info.get("streams", []) if st.get("codec_type") == "audio"]
    if out.returncode != 0 and not audio:
        return _failure(stderr or f"ffprobe exited with {out.returncode}")
    if not audio:
        return ProbeResult(False, "the URL answers but carries no audio", "source_not_audio")
    codec = audio[0].get("codec_name")
    fmt = (info.get("format") or {}).get("format_name")
    rate = audio[0].get("bit_rate") or (info.get("format") or {}).get("bit_rate")
    if codec not in AUDIO_CODECS:
        return ProbeResult(False, f"audio codec {codec!r} is not MP3, AAC or Opus",
                           "source_unsupported_codec", fmt, codec)
    return ProbeResult(True, None, None, fmt, codec, int(rate) if str(rate).isdigit() else None)


def _failure(stderr: str) -> ProbeResult:
    lowered = stderr.lower()
    if "invalid data" in lowered:
        return ProbeResult(False, f"the URL answers but is not an audio stream ({stderr})",
                           "source_not_audio")
    return ProbeResult(False, f"cannot reach the stream: {stderr}", "source_unreachable")
