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
    """The controller's signing keys: the active one, and during a rotation a staged next one."""

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

    @property
    def staged_path(self) -> Path:
        """The next key, made by `rotate()`: trusted by agents, not yet used for signing."""
        return self.dir / "command-signing.next.pem"

    def public_keys_text(self) -> list[str]:
        """Every public key agents should trust: the active one, then a staged next one."""
        texts = [signing.public_key_text(self.public_key)]
        if self.staged_path.exists():
            texts.append(signing.public_key_text(self._load(self.staged_path).public_key()))
        return texts

    def sign(self, cmd):
        """Sign a protocol Command with the active key."""
        self.refresh()  # a running controller follows a rotation done by the CLI
        return signing.sign(cmd, self.private_key)

    def rotate(self) -> str:
        """Stage a new key (idempotent): agents are given it while commands stay signed by the
        current one, so no agent ever sees a command signed by a key it does not know yet."""
        if not self.staged_path.exists():
            self._create(self.staged_path)
        return signing.key_id(self._load(self.staged_path).public_key())

    def retire(self) -> int:
        """Sign with the staged key from now on and forget the old one; returns keys dropped."""
        if not self.staged_path.exists():
            return 0
        os.replace(self.staged_path, self.active_path)
        self.private_key = self._load(self.active_path)
        self._stamp = self._file_stamp()
        return 1

    drop_retired = retire  # the name the skeleton used
