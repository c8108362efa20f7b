"""A real Mosquitto for tests, run from the project's generated config on a free port."""

from __future__ import annotations

from pathlib import Path

from controller import broker_files
from controller.managed_broker import ManagedBroker
from protocol.topics import Topics


class TestBroker:
    """Mosquitto with the generated auth files; speakers can be added while it runs."""

    __test__ = False  # not a test class

    def __init__(self, files_dir: Path, prefix: str = "commune-radio"):
        self.topics = Topics(prefix)
        self.managed = ManagedBroker(files_dir, port=18830)
        self.controller_password = broker_files.new_secret()
        self.passwords: dict[str, str] = {broker_files.CONTROLLER_USER: self.controller_password}
        self.hamlets: dict[str, int] = {}  # speaker -> hamlet id: which group topic it may read

    @property
    def port(self) -> int:
        """The port the broker listens on (the speakers' listener)."""
        return self.managed.port

    @property
    def controller_port(self) -> int:
        """The controller's own loopback listener, where controllers connect."""
        return self.managed.controller_port

    def _write(self) -> None:
        accounts = {u: broker_files.hash_password(p) for u, p in self.passwords.items()}
        speakers = [u for u in self.passwords if u != broker_files.CONTROLLER_USER]
        self.managed.write_auth(accounts, broker_files.render_acl(self.topics, speakers,
                                                                  self.hamlets))

    def start(self) -> TestBroker:
        """Start Mosquitto."""
        self._write()
        self.managed.start()
        return self

    def add_speaker(self, speaker_id: str) -> str:
        """Create credentials for a speaker and return its password."""
        pw = broker_files.new_secret()
        self.passwords[speaker_id] = pw
        self._write()
        return pw

    def set_hamlet(self, speaker_id: str, hamlet_id: int) -> None:
        """Put a speaker in a hamlet (or move it): the ACL lets it read that hamlet's group topic."""
        self.hamlets[speaker_id] = hamlet_id
        self._write()

    def remove_speaker(self, speaker_id: str) -> None:
        """Revoke a speaker's account."""
        self.passwords.pop(speaker_id, None)
        self._write()

    def stop(self) -> None:
        """Stop Mosquitto."""
        self.managed.stop()

    def restart(self) -> None:
        """Start again on the same port (persistence keeps queued messages)."""
        self.managed.requested_port = self.managed.port
        self.managed.start()
