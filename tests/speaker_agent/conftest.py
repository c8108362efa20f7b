"""Fixtures for agent process tests: real MP3s, a loopback media server, a fake controller, agents."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.agent_proc import AgentProcess
from tests.support.fake_controller import FakeController
from tests.support.media_server import MediaServer


def make_mp3(path: Path, seconds: float, freq: int = 440) -> bytes:
    """A real MP3 of a sine tone, made by ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         f"sine=frequency={freq}:duration={seconds}", "-ac", "1", "-b:a", "64k", "-y", str(path)],
        check=True,
    )
    return path.read_bytes()


@pytest.fixture(scope="session")
def mp3s(tmp_path_factory) -> dict[str, bytes]:
    """Tones of several lengths, generated once per session."""
    d = tmp_path_factory.mktemp("mp3")
    return {
        "short": make_mp3(d / "short.mp3", 1.5, 440),
        "medium": make_mp3(d / "medium.mp3", 3, 550),
        "long": make_mp3(d / "long.mp3", 8, 660),
        "emergency": make_mp3(d / "emergency.mp3", 2, 880),
        "big": make_mp3(d / "big.mp3", 40, 330),
    }


@pytest.fixture
def media():
    """A loopback HTTP server for audio."""
    server = MediaServer()
    yield server
    server.close()


@pytest.fixture
def controller(broker):
    """A signing controller connected to the test broker."""
    c = FakeController(broker)
    yield c
    c.close()


@pytest.fixture
def agents(tmp_path, broker, controller):
    """Factory: start real speaker-agent processes; all are stopped at teardown."""
    started: list[AgentProcess] = []

    def start(speaker_id: str = "ap-1", start: bool = True, **overrides) -> AgentProcess:
        agent = AgentProcess(tmp_path / "agents", speaker_id, broker, [controller.public_key], **overrides)
        started.append(agent)
        if start:
            agent.start()
            controller.wait_state(speaker_id, lambda s: s.online, timeout=30)
        return agent

    yield start
    for agent in started:
        agent.stop()

