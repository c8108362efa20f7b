"""Secrets in the data directory: the Ed25519 command-signing key, the media URL key, the web key.

Every file is created with mode 0600 and never logged.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol import signing


def _write_0600(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def random_secret(path: Path, nbytes: int = 32) -> bytes:
    """Read a random secret from `path`, creating it (0600) on first use."""
    if not path.exists():
        # Another process may create it first; then we read theirs.
        with contextlib.suppress(FileExistsError):
            _write_0600(path, secrets.token_bytes(nbytes))
    return path.read_bytes()


class KeyRing:
    """The controller's signing keys: one active, older ones kept for agents mid-rotation."""

    def __init__(self, keys_dir: Path):
        self.dir = Path(keys_dir)
        self.active_path = self.dir / "command-signing.pem"
        if not self.active_path.exists():
            self._create(self.active_path)
        self.private_key = self._load(self.active_path)
        self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.active_path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def refresh(self) -> None:
        """Reload the active key if `commune-radio keys rotate` replaced it in another process."""
        stamp = self._file_stamp()
        if stamp is not None and stamp != self._stamp:
            self.private_key = self._load(self.active_path)
            self._stamp = stamp

    @staticmethod
    def _create(path: Path) -> None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with contextlib.suppress(FileExistsError):
            _write_0600(path, pem)

    @staticmethod
    def _load(path: Path) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key")
        return key

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The active public key."""
        return self.private_key.public_key()

    def public_keys_text(self) -> list[str]:
        """Every public key agents should accept: the active one and retired ones still trusted."""
        texts = [signing.public_key_text(self.public_key)]
        for pem in sorted(self.dir.glob("retired-*.pem")):
            texts.append(signing.public_key_text(self._load(pem).public_key()))
        return texts

    def sign(self, cmd):
        """Sign a protocol Command with the active key."""
        self.refresh()  # a running controller follows a rotation done by the CLI
        return signing.sign(cmd, self.private_key)

    def rotate(self) -> str:
        """Make a new active key; the old one is kept as retired (still listed for agents)."""
        n = len(list(self.dir.glob("retired-*.pem"))) + 1
        os.replace(self.active_path, self.dir / f"retired-{n:03d}.pem")
        self._create(self.active_path)
        self.private_key = self._load(self.active_path)
        self._stamp = self._file_stamp()
        return signing.key_id(self.public_key)

    def drop_retired(self) -> int:
        """Forget retired keys once every agent has the new one; returns how many were dropped."""
        retired = list(self.dir.glob("retired-*.pem"))
        for p in retired:
            p.unlink()
        return len(retired)
