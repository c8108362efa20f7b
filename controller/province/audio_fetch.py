"""Fetching a bulletin's audio (NoiDung.Link) with a size limit checked before and while downloading."""

from __future__ import annotations

from pathlib import Path

import requests

CHUNK = 64 * 1024
AUDIO_TYPES = ("audio/", "application/octet-stream", "application/ogg", "video/mp4")


class FetchError(ValueError):
    """The Link could not be used; `message_vi` says why in a clerk's words."""

    def __init__(self, message: str, message_vi: str):
        super().__init__(message)
        self.message_vi = message_vi


def fetch(url: str, dest: Path, max_bytes: int, timeout_s: float, verify=True) -> int:
    """Download `url` to `dest`; refuse a non-audio type or more than max_bytes; returns bytes."""
    if not url.startswith(("http://", "https://")):
        raise FetchError("Link must be an http(s) URL", "Link phải là địa chỉ http(s)")
    try:
        with requests.get(url, stream=True, timeout=timeout_s, verify=verify) as r:
            if r.status_code != 200:
                raise FetchError(f"Link answered HTTP {r.status_code}",
                                 f"Không tải được tệp âm thanh (HTTP {r.status_code})")
            ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype and not ctype.startswith(AUDIO_TYPES):
                raise FetchError(f"Link is not audio (Content-Type {ctype})",
                                 f"Link không phải tệp âm thanh ({ctype})")
            length = r.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"Link is {int(length)} bytes, more than the limit {max_bytes}",
                                 f"Tệp âm thanh quá lớn ({int(length) // 1_000_000} MB, "
                                 f"tối đa {max_bytes // 1_000_000} MB)")
            size = 0
            with open(dest, "wb") as out:
                for chunk in r.iter_content(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:  # a server that lied about, or left out, its length
                        raise FetchError(f"Link is more than the limit {max_bytes} bytes",
                                         f"Tệp âm thanh quá lớn (tối đa {max_bytes // 1_000_000} MB)")
                    out.write(chunk)
            return size
    except requests.RequestException as exc:
        raise FetchError(f"Link could not be fetched: {type(exc).__name__}",
                         "Không tải được tệp âm thanh từ Link") from None
