"""deploy/install-controller.sh in a throwaway root (no apt, users or systemctl there), and the
controller's and the agent's systemd units checked by systemd-analyze verify."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.process,
    # The install does not touch the database: once per suite is enough.
    pytest.mark.skipif(bool(os.environ.get("COMMUNE_RADIO_TEST_DB")), reason="runs in the SQLite pass"),
    pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing"),
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    run = subprocess.run(["bash", str(ROOT / "deploy/install-controller.sh"), "--root", str(root),
                          "--site", "radio.example.test", "--tls-internal"],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    # systemd-analyze resolves the units' dependencies (sysinit.target …) inside the root.
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    return root


def _verify(root: Path, unit: str) -> str:
    out = subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit],
                         capture_output=True, text=True)
    return (out.stdout + out.stderr).strip() + ("" if out.returncode == 0 else f" (exit {out.returncode})")


def test_units_verify_cleanly(installed):
    assert _verify(installed, "/etc/systemd/system/commune-radio.service") == ""
    agent = installed / "etc/systemd/system/commune-radio-agent.service"
    shutil.copy(ROOT / "speaker_agent/deploy/commune-radio-agent.service", agent)
    # The agent's versioned layout (install.sh): current and previous link to venvs/<version>.
    venv = installed / "opt/commune-radio/venvs/1.0.0/bin"
    venv.mkdir(parents=True)
    for exe in ("speaker-agent", "python"):
        (venv / exe).write_text("#!/bin/sh\n")
        (venv / exe).chmod(0o755)
    for link in ("current", "previous"):
        (installed / "opt/commune-radio" / link).symlink_to("venvs/1.0.0")
    assert _verify(installed, "/etc/systemd/system/commune-radio-agent.service") == ""


def test_a_broken_unit_is_caught(installed, tmp_path):
    bad = installed / "etc/systemd/system/broken.service"
    bad.write_text((ROOT / "deploy/commune-radio.service").read_text().replace("Restart=", "Restrat="))
    assert "Unknown key 'Restrat'" in _verify(installed, "/etc/systemd/system/broken.service")


def test_layout_config_and_cli(installed):
    cfg = installed / "etc/commune-radio/config.toml"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o640
    assert os.readlink(installed / "var/lib/commune-radio/config.toml") == "/etc/commune-radio/config.toml"
    text = cfg.read_text()
    assert 'public_url = "https://radio.example.test"' in text and "cookie_secure = true" in text
    assert "COMMUNE_RADIO_TLS=tls internal" in (installed / "etc/default/caddy").read_text()
    cli = installed / "opt/commune-radio/venv/bin/commune-radio"
    out = subprocess.run([str(cli), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "serve" in out.stdout and "backup" in out.stdout


def test_running_it_again_keeps_the_config(installed):
    cfg = installed / "etc/commune-radio/config.toml"
    cfg.write_text(cfg.read_text() + "\n# edited by the technician\n")
    run = subprocess.run(["bash", str(ROOT / "deploy/install-controller.sh"), "--root", str(installed),
                          "--site", "radio.example.test"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    assert "# edited by the technician" in cfg.read_text()
