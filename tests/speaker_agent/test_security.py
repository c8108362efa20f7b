"""Issue 7 agent side: only commands signed by a trusted controller key, fresh and new, ever play."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import sign
from tests.support.fake_controller import FakeController

pytestmark = pytest.mark.process


def rejected_detail(controller, command_id: str) -> str:
    """Wait for the rejection of a command and return its reason."""
    return controller.wait_ack(command_id, "rejected").detail


def assert_never_played(agent, controller, command_id: str) -> None:
    assert controller.events(command_id) == ["rejected"]
    assert agent.plays(command_id) == []
    assert not agent.wav(command_id).exists()


def then_good_command_plays(agent, controller, media_obj) -> None:
    cmd = controller.send(controller.command(agent.speaker_id, media=media_obj, play_in=0))
    controller.wait_ack(cmd.id, "played")


def test_unsigned_bad_signature_unknown_key_are_rejected(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    unsigned = controller.send(controller.command("ap-1", media=m), signed=False)
    assert "missing signature" in rejected_detail(controller, unsigned.id)

    good = controller.sign(controller.command("ap-1", media=m))
    tampered = dataclasses.replace(good, media=dataclasses.replace(m, url=media.url("evil.mp3")))
    controller.publish_raw("ap-1", tampered.encode())
    assert "bad signature" in rejected_detail(controller, tampered.id)

    stranger = sign(controller.command("ap-1", media=m), Ed25519PrivateKey.generate())
    controller.publish_raw("ap-1", stranger.encode())
    assert "unknown key" in rejected_detail(controller, stranger.id)

    time.sleep(1)
    for cmd in (unsigned, tampered, stranger):
        assert_never_played(agent, controller, cmd.id)
    state = controller.wait_state("ap-1", lambda s: s.last_error and stranger.id in s.last_error)
    assert "unknown key" in state.last_error
    then_good_command_plays(agent, controller, m)


def test_a_forged_command_does_not_burn_the_real_ones_id(agents, controller, media, mp3s):
    """Someone with a leaked speaker password sends junk under an id the controller will use."""
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    real = controller.command("ap-1", media=m)
    controller.send(real, signed=False)
    controller.wait_ack(real.id, "rejected")
    controller.send(real)
    controller.wait_ack(real.id, "played")
    assert len(agent.plays(real.id)) == 1


def test_expired_future_dated_and_replayed_commands_are_rejected(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    now = datetime.now(UTC)
    expired = controller.command("ap-1", media=m, issued_at=now - timedelta(minutes=20), expires_in=-60)
    expired = dataclasses.replace(expired, play_at=now - timedelta(minutes=10))
    controller.send(expired)
    assert "expired" in rejected_detail(controller, expired.id)

    future = controller.send(controller.command("ap-1", media=m, issued_at=now + timedelta(hours=1),
                                                expires_in=7200))
    assert "in the future" in rejected_detail(controller, future.id)

    original = controller.send(controller.command("ap-1", media=m, play_in=0))
    controller.wait_ack(original.id, "played")
    controller.publish_raw("ap-1", original.encode())  # a captured command replayed later
    assert "replay" in rejected_detail(controller, original.id)
    time.sleep(1)
    assert controller.events(original.id).count("played") == 1
    assert len(agent.plays(original.id)) == 1
    for cmd in (expired, future):
        assert_never_played(agent, controller, cmd.id)


def test_key_rotation_accepts_both_keys_then_only_the_new(broker, agents, controller, media, mp3s):
    new_key = Ed25519PrivateKey.generate()
    rotating = FakeController(broker, key=new_key)
    try:
        from protocol.signing import public_key_text

        both = [controller.public_key, public_key_text(new_key.public_key())]
        agent = agents("ap-1", security={"public_keys": both})
        m = media.add("short.mp3", mp3s["short"], 1500)
        old_cmd = controller.send(controller.command("ap-1", media=m))
        new_cmd = rotating.send(rotating.command("ap-1", media=m))
        controller.wait_ack(old_cmd.id, "played")
        controller.wait_ack(new_cmd.id, "played")
        # rotation done: the operator removes the old key and restarts the agent
        agent.stop()
        text = agent.config_path.read_text()
        agent.config_path.write_text(text.replace(f'"{controller.public_key}", ', ""))
        agent.start()
        controller.wait_state("ap-1", lambda s: s.online and s.uptime_s < 30)
        stale = controller.send(controller.command("ap-1", media=m))
        assert "unknown key" in rejected_detail(controller, stale.id)
        fresh = rotating.send(rotating.command("ap-1", media=m))
        controller.wait_ack(fresh.id, "played")
    finally:
        rotating.close()
