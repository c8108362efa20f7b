"""Download audio over HTTP(S) with urllib, resuming with Range where the server allows it."""

from __future__ import annotations

import errno
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from speaker_agent.cache import AudioCache, CacheFull, Corrupt

USER_AGENT = "commune-radio-speaker-agent"
PERMANENT_HTTP = (401, 403, 404, 410)


class FetchError(Exception):
    """A download that failed; `permanent` means retrying will not help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def use_ca_file(ca_file: str) -> None:
    """Verify every HTTPS connection of this process (audio, streams, updates) against ca_file.

    One opener for the whole agent: urllib's default context trusts only the system store,
    and a commune's controller behind Caddy's internal CA is not in it. Verification stays on.
    """
    if ca_file:
        ctx = ssl.create_default_context(cafile=ca_file)
        urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx)))


def download(url: str, part: Path, expected_bytes: int, timeout: float = 30.0) -> None:
    """Fetch `url` into `part`, continuing a partial file with a Range request."""
    offset = part.stat().st_size if part.exists() else 0
    if offset >= expected_bytes:
        offset = 0  # a complete-looking part that failed its hash before: start over
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    req = urllib.request.Request(url, headers=headers)  # noqa: S310 - protocol allows only http(s)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # our partial file is not a prefix of theirs
            part.unlink(missing_ok=True)
        raise FetchError(f"HTTP {exc.code} for {url}", permanent=exc.code in PERMANENT_HTTP) from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
    with resp:
        # A server that ignores Range answers 200 with the whole body: start over.
        mode = "ab" if resp.status == 206 and offset else "wb"
        written = offset if mode == "ab" else 0
        try:
            with open(part, mode) as fh:
                while written <= expected_bytes:
                    block = resp.read(1 << 16)
                    if not block:
                        break
                    fh.write(block)
                    written += len(block)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                part.unlink(missing_ok=True)
                raise CacheFull(f"disk full while downloading {url}") from None
            raise FetchError(f"download of {url} broke off: {exc}") from None
    if written < expected_bytes:
        raise FetchError(f"download of {url} stopped at {written} of {expected_bytes} bytes")


def fetch_into_cache(cache: AudioCache, url: str, sha256: str, nbytes: int, keep: set[str]) -> Path:
    """Make room, download, verify: the cached path; FetchError or CacheFull on failure."""
    if cache.has(sha256):
        cache.touch(sha256)
        return cache.path(sha256)
    cache.make_room(sha256, nbytes, keep)
    download(url, cache.part_path(sha256), nbytes)
    try:
        return cache.commit(sha256)
    except Corrupt as exc:
        raise FetchError(f"{exc}; fetching again") from None
