"""Issue 5 bad input: the agent keeps running, reports in state and acks, and the next good command plays."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from protocol.messages import Media

pytestmark = pytest.mark.process


def next_good_plays(agent, controller, m) -> None:
    """The agent is alive and the next good command plays."""
    cmd = controller.send(controller.command(agent.speaker_id, media=m, play_in=0))
    controller.wait_ack(cmd.id, "played")
    assert agent.alive()


def test_command_for_another_speaker(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    other = controller.sign(controller.command("ap-2", media=m))
    controller.publish_raw("ap-1", other.encode())
    ack = controller.wait_ack(other.id, "rejected")
    assert "for speaker 'ap-2'" in ack.detail and ack.speaker_id == "ap-1"
    controller.wait_state("ap-1", lambda s: s.last_error and "ap-2" in s.last_error)
    next_good_plays(agent, controller, m)
    assert agent.plays(other.id) == []


def test_not_json_and_unknown_type(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    controller.publish_raw("ap-1", b"\xff\xfe this is not json {")
    controller.wait_state("ap-1", lambda s: s.last_error and "not UTF-8" in s.last_error)
    controller.publish_raw("ap-1", b"[1, 2, 3]")
    controller.wait_state("ap-1", lambda s: s.last_error and "not a JSON object" in s.last_error)
    good = controller.sign(controller.command("ap-1", media=m)).to_payload()
    good["type"] = "selfdestruct"
    controller.publish_raw("ap-1", json.dumps(good).encode())
    ack = controller.wait_ack(good["id"], "rejected")
    assert "type" in ack.detail and "selfdestruct" in ack.detail
    next_good_plays(agent, controller, m)


def test_play_at_years_away(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    far = controller.send(controller.command("ap-1", media=m, play_in=3 * 365 * 86400,
                                             expires_in=3 * 366 * 86400))
    assert "days ahead" in controller.wait_ack(far.id, "rejected").detail
    next_good_plays(agent, controller, m)
    controller.wait_state("ap-1", lambda s: s.queue_len == 0)


def test_media_404(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    missing = Media(url=media.url("gone.mp3"), sha256="0" * 64, bytes=1000, duration_ms=1000)
    cmd = controller.send(controller.command("ap-1", media=missing))
    ack = controller.wait_ack(cmd.id, "failed")
    assert "404" in ack.detail
    assert controller.events(cmd.id) == ["received", "failed"]
    controller.wait_state("ap-1", lambda s: s.last_error and "404" in s.last_error)
    next_good_plays(agent, controller, m)


def test_audio_ffmpeg_cannot_decode(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    junk = media.add("junk.mp3", os.urandom(20_000), 1000)
    cmd = controller.send(controller.command("ap-1", media=junk))
    ack = controller.wait_ack(cmd.id, "failed")
    assert "ffmpeg exited" in ack.detail
    assert controller.events(cmd.id) == ["received", "downloaded", "playing", "failed"]
    controller.wait_state("ap-1", lambda s: s.last_error and cmd.id in s.last_error)
    next_good_plays(agent, controller, m)


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare(1) for a private tmpfs")
def test_full_disk(agents, controller, media, mp3s, tmp_path):
    """The audio cache lives on a real 200 kB tmpfs (in a private mount namespace): a big file fills it."""
    cache = tmp_path / "tiny-cache"
    cache.mkdir()
    wrapper = ["unshare", "-Urm", "sh", "-c",
               f'mount -t tmpfs -o size=200k tmpfs "{cache}" && exec "$0" "$@"']
    agent = agents("ap-1", wrapper=wrapper, cache={"dir": str(cache)})
    big = media.add("big.mp3", mp3s["big"], 40000)
    assert big.bytes > 200_000
    cmd = controller.send(controller.command("ap-1", media=big))
    ack = controller.wait_ack(cmd.id, "failed")
    assert "disk full" in ack.detail
    controller.wait_state("ap-1", lambda s: s.last_error and "disk full" in s.last_error)
    next_good_plays(agent, controller, media.add("short.mp3", mp3s["short"], 1500))
    assert not any(cache.iterdir())  # the private tmpfs never showed outside the agent


def test_stop_volume_ping(agents, controller, media, mp3s):
    agent = agents("ap-1")
    long = controller.send(controller.command("ap-1", media=media.add("long.mp3", mp3s["long"], 8000)))
    controller.wait_ack(long.id, "playing")
    stop = controller.send(controller.command("ap-1", "stop"))
    assert controller.wait_ack(stop.id, "stopped").detail == f"stopped {long.id}"
    assert f"stopped by command {stop.id}" in controller.wait_ack(long.id, "stopped").detail
    vol = controller.send(controller.command("ap-1", "volume", volume=35))
    controller.wait_ack(vol.id, "volume_set")
    controller.wait_state("ap-1", lambda s: s.volume == 35)
    ping = controller.send(controller.command("ap-1", "ping"))
    assert "clock_offset_ms" in controller.wait_ack(ping.id, "pong").detail
    short = controller.send(controller.command("ap-1", media=media.add("s.mp3", mp3s["short"], 1500)))
    controller.wait_ack(short.id, "played")
    assert agent.plays(short.id)[0]["volume"] == 35
