"""Content-addressed audio cache: files named by SHA-256, bounded size, LRU eviction.

Audio a waiting item still needs is never evicted; if the rest cannot make
room, the download is refused with a clear reason instead of breaking a
broadcast that is already queued.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from protocol.digest import sha256_file


class CacheFull(Exception):
    """There is no room for a file without evicting audio that is still needed, or the disk is full."""


class Corrupt(Exception):
    """A file's content does not match its SHA-256."""


class AudioCache:
    """Files at <root>/<sha256>.audio, partial downloads at <sha256>.part."""

    def __init__(self, root: Path, max_bytes: int, min_free_bytes: int = 0):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes

    def path(self, sha256: str) -> Path:
        """Where a verified file with this hash lives."""
        return self.root / f"{sha256}.audio"

    def part_path(self, sha256: str) -> Path:
        """Where a download in progress is written (kept for resuming)."""
        return self.root / f"{sha256}.part"

    def has(self, sha256: str) -> bool:
        """True if the file is cached and still matches its hash (SD cards do rot)."""
        path = self.path(sha256)
        if not path.exists():
            return False
        if sha256_file(path) != sha256:
            path.unlink(missing_ok=True)
            return False
        return True

    def touch(self, sha256: str) -> None:
        """Mark a file as just used, for LRU."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.path(sha256))

    def _entries(self) -> list[tuple[float, int, Path]]:
        out = []
        for p in self.root.iterdir():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out.append((st.st_mtime, st.st_size, p))
        return out

    def total_bytes(self) -> int:
        """Bytes used by cached and partial files."""
        return sum(size for _, size, _ in self._entries())

    def make_room(self, sha256: str, nbytes: int, keep: set[str]) -> None:
        """Evict least recently used files not in `keep` until `nbytes` more fit; else CacheFull."""
        entries = self._entries()
        mine = {self.path(sha256), self.part_path(sha256)}
        used = sum(size for _, size, p in entries if p not in mine)
        if nbytes > self.max_bytes:
            raise CacheFull(f"audio of {nbytes} bytes is larger than the cache ({self.max_bytes} bytes)")
        for _, size, p in sorted(entries):
            if used + nbytes <= self.max_bytes:
                break
            if p in mine or p.name.split(".")[0] in keep:
                continue
            p.unlink(missing_ok=True)
            used -= size
        if used + nbytes > self.max_bytes:
            raise CacheFull(f"cache is full of audio that queued items still need ({used} bytes)")
        free = shutil.disk_usage(self.root).free
        if free - nbytes < self.min_free_bytes:
            raise CacheFull(f"disk full: {free} bytes free, {nbytes} needed")

    def commit(self, sha256: str) -> Path:
        """Verify a finished download and move it into place; Corrupt (and the part deleted) if wrong."""
        part = self.part_path(sha256)
        got = sha256_file(part)
        if got != sha256:
            part.unlink(missing_ok=True)
            raise Corrupt(f"downloaded audio has sha256 {got[:12]}…, expected {sha256[:12]}…")
        final = self.path(sha256)
        os.replace(part, final)
        return final
