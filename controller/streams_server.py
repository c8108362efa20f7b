"""The stream server (Icecast) as the rest of the controller sees it: where to push, where to pull.

Either a managed Icecast child (no `stream_url` setting) or an external Icecast named by
`stream_url`. Mount names are paths like "/relay-12"; see controller/services/streams.py.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import quote, urlparse

from controller.config import Settings
from controller.managed_icecast import ManagedIcecast

LISTENER_AUTH_PATH = "/icecast/listener"
"""The controller's endpoint Icecast calls on every listener connect (web/icecast_auth.py)."""


def normalize_mount(mount: str) -> str:
    """'/relay-12' from 'relay-12' or '/relay-12'."""
    mount = mount.strip()
    return mount if mount.startswith("/") else "/" + mount


class StreamServer:
    """Addresses and source credentials of the Icecast the controller uses."""

    def __init__(self, settings: Settings, files_dir: Path, web_base: str):
        self.settings = settings
        self.listener_auth_url = web_base.rstrip("/") + LISTENER_AUTH_PATH
        self.managed: ManagedIcecast | None = None
        if settings.stream_url:
            u = urlparse(settings.stream_url)
            self.scheme = u.scheme
            self.host = u.hostname or "127.0.0.1"
            self.port = u.port or (443 if u.scheme == "https" else 8000)
            self.source_user = settings.stream_source_user
            self.source_password = settings.stream_source_password
        else:
            self.scheme = "http"
            self.managed = ManagedIcecast(files_dir, settings.stream_port, settings.stream_bind,
                                          listener_auth_url=self.listener_auth_url)
            self.host = settings.stream_bind
            self.port = settings.stream_port
            self.source_user = "source"
            self.source_password = self.managed.source_password

    def set_web_base(self, web_base: str) -> None:
        """Point listener authentication at the controller's web address (before start)."""
        self.listener_auth_url = web_base.rstrip("/") + LISTENER_AUTH_PATH
        if self.managed is not None:
            self.managed.listener_auth_url = self.listener_auth_url

    def start(self) -> None:
        """Start the managed Icecast (nothing to do for an external one).

        The port is remembered in the data folder and preferred at the next start: commands
        already on the speakers name it, and a relay survives a controller restart. (Delete
        DATA/icecast/port to make a changed `stream_port` setting count.)
        """
        if self.managed is None:
            return
        remembered = self.managed.files_dir / "port"
        if remembered.exists():
            with contextlib.suppress(ValueError):
                self.managed.requested_port = int(remembered.read_text().strip())
        self.port = self.managed.start()
        remembered.write_text(f"{self.port}\n")

    def stop(self) -> None:
        """Stop the managed Icecast."""
        if self.managed is not None:
            self.managed.stop()

    def base_url(self) -> str:
        """The base URL speakers pull from."""
        if self.settings.stream_public_url:
            return self.settings.stream_public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "", "::"):  # noqa: S104 - a bind-all address is not reachable
            host = self.settings.agent_broker_host
        return f"{self.scheme}://{host}:{self.port}"

    def listen_url(self, mount: str) -> str:
        """What a speaker pulls (the token is added per speaker by the caller)."""
        return self.base_url() + normalize_mount(mount)

    def source_login(self, mount: str) -> tuple[str, str]:
        """(username, password) that may push to this mount."""
        mount = normalize_mount(mount)
        if self.managed is not None and mount in self.managed.source_logins:
            login = self.managed.source_logins[mount]
            return login.username, login.password
        return self.source_user, self.source_password

    def source_url(self, mount: str) -> str:
        """icecast://user:pass@host:port/mount, for ffmpeg (-f ogg -content_type audio/ogg)."""
        user, password = self.source_login(mount)
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host  # noqa: S104
        return (f"icecast://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{self.port}"
                f"{normalize_mount(mount)}")

    def add_source_login(self, mount: str, username: str, password: str) -> bool:
        """Per-mount source credentials for an external encoder; False if not possible.

        With the managed Icecast the mount's own login *replaces* the shared source password
        for that mount (probed on 2.4.4), so the controller's own pushes to it must use
        `source_url(mount)`, which knows this. An external Icecast is configured by its
        operators: the shared credentials stay in force and False is returned.
        """
        if self.managed is None:
            return False
        self.managed.add_source_login(normalize_mount(mount), username, password)
        return True

    def remove_source_login(self, mount: str) -> None:
        """Drop a mount's own source credentials."""
        if self.managed is not None:
            self.managed.remove_source_login(normalize_mount(mount))

    def kill_listener(self, mount: str, client_id: str) -> bool:
        """Drop one listener connection (Icecast admin killclient); False if not possible.

        Only the managed Icecast: the controller has no admin login for an external one.
        """
        if self.managed is None:
            return False
        return self.managed.admin("killclient", mount=normalize_mount(mount), id=client_id)

    def running(self) -> bool:
        """True if the managed Icecast runs (always True for an external one)."""
        return self.managed is None or self.managed.running()
