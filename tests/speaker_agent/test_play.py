"""Process tests: a real agent plays signed commands from a real Mosquitto and acknowledges each step."""

from __future__ import annotations

import wave

import pytest

pytestmark = pytest.mark.process


def wav_seconds(path) -> float:
    """Duration of a WAV file."""
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def test_play_acks_every_step_and_writes_the_audio(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("medium.mp3", mp3s["medium"], 3000)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=1))
    controller.wait_ack(cmd.id, "played")
    assert controller.events(cmd.id) == ["received", "downloaded", "playing", "played"]
    assert abs(wav_seconds(agent.wav(cmd.id)) - 3.0) < 0.3
    plays = agent.plays(cmd.id)
    assert len(plays) == 1 and plays[0]["volume"] == 80
    # it started at play_at by its own clock, not before
    assert plays[0]["started_at"] >= cmd.play_at.timestamp()
    state = controller.wait_state("ap-1", lambda s: s.queue_len == 0 and s.playing is None)
    assert state.version and state.disk_free_bytes > 0 and state.clock_offset_ms is not None


def test_duplicate_command_plays_once(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=2))
    controller.publish_raw("ap-1", cmd.encode())  # QoS 1 redelivery / controller resend while queued
    controller.wait_ack(cmd.id, "played")
    controller.publish_raw("ap-1", cmd.encode())  # and again after it played
    controller.wait_for(lambda: "rejected" in controller.events(cmd.id), what="replay refused")
    events = controller.events(cmd.id)
    assert events.count("played") == 1 and events.count("playing") == 1
    assert len(agent.plays(cmd.id)) == 1
