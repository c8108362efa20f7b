"""Uploads: accepted formats are mastered; bad files are refused with a clear message and nothing stored."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from audio.errors import AudioError
from audio.render import render_upload
from audio.settings import MasterSettings, UploadLimits
from tests.support.ebur128 import ebur128


def make_audio(path: Path, seconds: float, *codec: str) -> Path:
    """A real audio file of a quiet tone, encoded by ffmpeg in the given codec."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:duration={seconds},volume=0.3",
            *codec,
            str(path),
        ],
        check=True,
    )
    return path


def stored_mp3s(cache: Path) -> list[Path]:
    return list(cache.rglob("*.mp3")) + list(cache.rglob("*.json"))


FORMATS = {
    "mp3": ["-c:a", "libmp3lame"],
    "wav": [],
    "ogg": ["-c:a", "libvorbis"],
    "m4a": ["-c:a", "aac"],
    "aac": ["-c:a", "aac"],
    "flac": [],
    "webm": ["-c:a", "libopus"],
    "opus": ["-c:a", "libopus"],
}


@pytest.mark.parametrize("ext", list(FORMATS))
def test_each_accepted_format_is_mastered(tmp_path, ext):
    src = make_audio(tmp_path / f"rec.{ext}", 3, *FORMATS[ext])
    master = MasterSettings()
    rendered = render_upload(src, master, UploadLimits(), tmp_path / "cache")
    assert rendered.engine == "upload" and not rendered.cached
    # 3 s of sound plus lead-in and lead-out, within an MP3 frame or two.
    assert abs(rendered.duration_ms - (3000 + master.lead_in_ms + master.lead_out_ms)) <= 100
    integrated, true_peak = ebur128(rendered.mp3_path)
    assert abs(integrated - master.target_lufs) <= 1.0 and true_peak <= master.true_peak_db


def test_same_upload_twice_is_served_from_cache(tmp_path):
    src = make_audio(tmp_path / "rec.wav", 2)
    first = render_upload(src, MasterSettings(), UploadLimits(), tmp_path / "cache")
    second = render_upload(src, MasterSettings(), UploadLimits(), tmp_path / "cache")
    assert second.cached and second.sha256 == first.sha256


def reject(src: Path, tmp_path: Path, limits: UploadLimits | None = None) -> AudioError:
    cache = tmp_path / "cache"
    with pytest.raises(AudioError) as err:
        render_upload(src, MasterSettings(), limits or UploadLimits(), cache)
    assert stored_mp3s(cache) == []
    return err.value


def test_text_file_renamed_mp3_is_not_audio(tmp_path):
    src = tmp_path / "thong-bao.mp3"
    src.write_text("Thông báo họp tổ dân phố lúc 7h30\n" * 50, encoding="utf-8")
    err = reject(src, tmp_path)
    assert err.code == "not_audio"
    assert "not audio" in str(err)


def test_truncated_mp3_is_refused(tmp_path):
    whole = make_audio(tmp_path / "whole.mp3", 10, "-c:a", "libmp3lame", "-b:a", "64k")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    err = reject(cut, tmp_path)
    assert err.code == "truncated"
    assert "cut off" in str(err)


def test_zero_byte_file_is_empty(tmp_path):
    src = tmp_path / "empty.mp3"
    src.write_bytes(b"")
    err = reject(src, tmp_path)
    assert err.code == "empty"
    assert "empty" in str(err)


def test_over_long_file_is_refused(tmp_path):
    src = make_audio(tmp_path / "long.ogg", 12, "-c:a", "libvorbis")
    err = reject(src, tmp_path, UploadLimits(max_duration_s=10))
    assert err.code == "too_long"
    assert "limit of 10 s" in str(err)


def test_over_long_webm_without_duration_header_is_refused_after_decoding(tmp_path):
    # Browser recorders (MediaRecorder) write webm with no duration; piping drops it here too.
    src = tmp_path / "rec.webm"
    tone = subprocess.Popen(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=12",
            "-c:a",
            "libopus",
            "-f",
            "webm",
            "-",
        ],
        stdout=subprocess.PIPE,
    )
    src.write_bytes(tone.communicate()[0])
    err = reject(src, tmp_path, UploadLimits(max_duration_s=10))
    assert err.code == "too_long"


def test_over_large_file_is_refused_before_reading(tmp_path):
    src = make_audio(tmp_path / "big.wav", 2)
    err = reject(src, tmp_path, UploadLimits(max_bytes=1000))
    assert err.code == "too_large"
    assert "limit of 1000 bytes" in str(err)


def test_playlist_pointing_elsewhere_is_not_audio(tmp_path):
    target = make_audio(tmp_path / "other.mp3", 2, "-c:a", "libmp3lame")
    src = tmp_path / "upload.mp3"
    src.write_text(f"#EXTM3U\n#EXTINF:2,\n{target}\n", encoding="utf-8")
    assert reject(src, tmp_path).code == "not_audio"


def test_image_is_not_audio(tmp_path):
    src = tmp_path / "photo.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=32x32",
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            str(src),
        ],
        check=True,
    )
    assert reject(src, tmp_path).code == "not_audio"


def test_decode_time_limit(tmp_path):
    src = make_audio(tmp_path / "rec.flac", 5)
    assert reject(src, tmp_path, UploadLimits(decode_timeout_s=0.001)).code == "decode_timeout"
