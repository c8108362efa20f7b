"""Writes a speaker agent's TOML config file (the keys speaker_agent/config.py reads)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from controller.broker_files import write_private


def _v(value) -> str:
    # JSON strings, numbers, booleans and arrays of them are valid TOML values.
    return json.dumps(value, ensure_ascii=False)


def render(*, speaker_id: str, password: str, host: str, port: int, prefix: str,
           public_keys: list[str], data_dir: str, backend: str = "alsa",
           sink_dir: str | None = None, relay_mock: bool = False, relay_enabled: bool = True,
           keepalive: int = 10, tls: bool = False, ca_file: str = "") -> str:
    """The TOML text for one agent; it contains the speaker's broker secret."""
    sections = {
        None: {"speaker_id": speaker_id, "data_dir": data_dir, "log_level": "INFO"},
        "broker": {"host": host, "port": port, "username": speaker_id, "password": password,
                   "topic_prefix": prefix, "keepalive": keepalive, "tls": tls,
                   "ca_file": ca_file},
        "security": {"public_keys": public_keys, "max_clock_skew_s": 300},
        "player": {"backend": backend, "command": ["mpg123", "-q", "{file}"],
                   "sink_dir": sink_dir or str(Path(data_dir) / "sink")},
        "volume": {"level": 80, "priority": 90, "emergency": 100, "mixer_control": "PCM"},
        "relay": {"enabled": relay_enabled, "pin": 17, "active_high": True, "warmup_s": 2.0,
                  "idle_off_s": 30.0, "mock": relay_mock},
        "cache": {"max_bytes": 200_000_000},
        "health": {"heartbeat_s": 30},
    }
    lines = ["# commune-radio speaker agent. Contains this speaker's secret: keep it 0600.", ""]
    for name, values in sections.items():
        if name:
            lines.append(f"[{name}]")
        lines += [f"{k} = {_v(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    """Write the config with mode 0600."""
    write_private(Path(path), text)


def set_public_keys(path: Path, public_keys: list[str]) -> bool:
    """Rewrite `security.public_keys` in an agent config file (key rotation); False if absent."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r"(?m)^public_keys = .*$", lambda _m: f"public_keys = {_v(public_keys)}", text)
    if n != 1:
        return False
    write_private(path, new)
    return True
