"""Content-addressed audio store: files named by SHA-256, served at URLs that contain the hash.

Media URLs are signed per speaker with an expiry (HMAC-SHA256), so a leaked URL
works only for that speaker and only for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

from protocol.digest import sha256_file


class AudioStore:
    """Files under root/ab/abcdef….mp3."""

    def __init__(self, root: Path, url_key: bytes):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._key = url_key

    def path_for(self, sha256: str) -> Path:
        """Where the file for a hash lives (it may not exist)."""
        return self.root / sha256[:2] / f"{sha256}.mp3"

    def put(self, src: Path) -> tuple[str, int]:
        """Copy a file in (atomically); return (sha256, size)."""
        sha = sha256_file(src)
        dest = self.path_for(sha)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(f".tmp{os.getpid()}")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        return sha, dest.stat().st_size

    def has(self, sha256: str) -> bool:
        """True if the file is stored."""
        return self.path_for(sha256).exists()

    def _mac(self, sha256: str, speaker_id: str, exp: int) -> str:
        msg = f"{sha256}|{speaker_id}|{exp}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def signed_url(self, base: str, sha256: str, speaker_id: str, ttl_s: int) -> str:
        """A URL for one speaker that stops working after ttl_s."""
        exp = int(time.time()) + ttl_s
        q = urlencode({"spk": speaker_id, "exp": exp, "sig": self._mac(sha256, speaker_id, exp)})
        return f"{base}/media/{sha256}.mp3?{q}"

    def check_url(self, sha256: str, speaker_id: str, exp: str, sig: str) -> str | None:
        """None if the signed URL is valid now, else the reason it is not."""
        try:
            exp_i = int(exp)
        except (TypeError, ValueError):
            return "bad expiry"
        if exp_i < time.time():
            return "link expired"
        if not hmac.compare_digest(self._mac(sha256, speaker_id or "", exp_i), sig or ""):
            return "bad signature"
        return None
