"""Real `speaker-agent` processes for tests: writes the TOML config, starts, kills and restarts them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

AGENT_BIN = Path(sys.executable).parent / "speaker-agent"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # JSON string escapes are valid TOML basic strings


def render_toml(top: dict, sections: dict[str, dict]) -> str:
    """A flat TOML document: top-level keys, then one table per section."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in top.items()]
    for name, values in sections.items():
        lines.append(f"\n[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


class AgentProcess:
    """One speaker agent process with its own data dir and file sink."""

    def __init__(self, root: Path, speaker_id: str, broker, public_keys: list[str],
                 wrapper: list[str] | None = None, **overrides: dict):
        self.speaker_id = speaker_id
        self.root = Path(root) / speaker_id
        self.data_dir = self.root / "data"
        self.sink_dir = self.root / "sink"
        self.config_path = self.root / "agent.toml"
        self.log_path = self.root / "agent.log"
        self.wrapper = wrapper or []
        self.proc: subprocess.Popen | None = None
        password = broker.add_speaker(speaker_id)
        sections = {
            "broker": {"host": "127.0.0.1", "port": broker.port, "username": speaker_id,
                       "password": password, "topic_prefix": broker.topics.prefix, "keepalive": 5},
            "security": {"public_keys": public_keys, "max_clock_skew_s": 300},
            "player": {"backend": "file", "sink_dir": str(self.sink_dir)},
            "volume": {"level": 80, "emergency": 100, "priority": 90},
            "relay": {"enabled": True, "mock": True, "pin": 17, "warmup_s": 0.5, "idle_off_s": 2.0},
            "cache": {"max_bytes": 50_000_000},
            "health": {"heartbeat_s": 5},
        }
        for name, values in overrides.items():
            sections.setdefault(name, {}).update(values)
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_toml(
            {"speaker_id": speaker_id, "data_dir": str(self.data_dir), "log_level": "DEBUG"}, sections))

    def start(self) -> AgentProcess:
        """Start the agent (appending to its log)."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.wrapper, str(AGENT_BIN), "--config", str(self.config_path)],
                stdout=log, stderr=log, start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """kill -9, like a power cut."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM and wait (kill -9 if it hangs)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def plays(self, command_id: str) -> list[dict]:
        """The file sink's record of each playback of a command."""
        sidecar = self.sink_dir / f"{command_id}.json"
        return json.loads(sidecar.read_text())["plays"] if sidecar.exists() else []

    def wav(self, command_id: str) -> Path:
        """The WAV the file sink wrote for a command."""
        return self.sink_dir / f"{command_id}.wav"

    def stream_connections(self, session_id: str) -> list[dict]:
        """The file sink's record of each connection of a stream session (file, times, outcome)."""
        sidecar = self.sink_dir / f"{session_id}.json"
        return json.loads(sidecar.read_text())["connections"] if sidecar.exists() else []

    def stream_wavs(self, session_id: str) -> list[Path]:
        """The WAVs a stream session was recorded into, one per connection, in order."""
        return sorted(self.sink_dir.glob(f"{session_id}.*.wav"))

    def relay_history(self) -> list[dict]:
        """Pin changes of the mock relay, in order."""
        path = self.data_dir / "relay_history.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def log_text(self) -> str:
        """Everything the agent logged."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_until(predicate, timeout: float = 60.0, what: str = "condition", interval: float = 0.1):
    """Poll predicate() until truthy; return its value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def broker_down(broker):
    """Stop the broker and keep its port, so a parallel test session cannot take it meanwhile.

    TestBroker.restart() moves to the next free port if its own is taken, and other
    sessions on this machine start their brokers from the same base port: without the
    placeholder, agents would come back to a stranger's broker ("Not authorized").
    """
    port = broker.port
    broker.stop()
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen(1)
    try:
        yield
    finally:
        holder.close()
        broker.restart()
        assert broker.port == port, "broker came back on another port"
