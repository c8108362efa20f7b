"""A real Caddy in front of a controller on loopback, with the repository's deploy/Caddyfile
and Caddy's internal CA (`tls internal`), on free ports and its own storage folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.processes import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


class TestCaddy:
    """`caddy run` as a child process; `root_ca` is the certificate clients must trust."""

    __test__ = False

    def __init__(self, folder: Path, upstream_port: int):
        self.folder = Path(folder)
        self.upstream_port = upstream_port
        self.https_port = free_port()
        self.http_port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        """The HTTPS address the controller is reached at."""
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def root_ca(self) -> Path:
        """Caddy's internal root certificate (created on first start)."""
        return self.folder / "storage/pki/authorities/local/root.crt"

    def start(self) -> TestCaddy:
        """Write the global options around deploy/Caddyfile and start Caddy."""
        self.folder.mkdir(parents=True, exist_ok=True)
        cfg = self.folder / "Caddyfile"
        cfg.write_text(
            "{\n\tadmin off\n\tskip_install_trust\n\tauto_https disable_redirects\n"
            f"\thttp_port {self.http_port}\n\thttps_port {self.https_port}\n"
            f"\tstorage file_system {{\n\t\troot {self.folder / 'storage'}\n\t}}\n}}\n"
            f"import {ROOT / 'deploy/Caddyfile'}\n")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.folder), "XDG_DATA_HOME": str(self.folder),
               "XDG_CONFIG_HOME": str(self.folder),
               "COMMUNE_RADIO_SITE": f"127.0.0.1:{self.https_port}", "COMMUNE_RADIO_TLS": "tls internal",
               "COMMUNE_RADIO_UPSTREAM": f"127.0.0.1:{self.upstream_port}"}
        log = open(self.folder / "caddy.log", "ab")  # noqa: SIM115 - lives as long as Caddy
        self.proc = subprocess.Popen([shutil.which("caddy") or "caddy", "run", "--config", str(cfg),
                                      "--adapter", "caddyfile"], stdout=log, stderr=subprocess.STDOUT,
                                     env=env, cwd=self.folder)
        wait_for(self.root_ca.exists, timeout=60, what="Caddy's internal CA")
        return self

    def stop(self) -> None:
        """Stop Caddy."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
