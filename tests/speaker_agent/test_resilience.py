"""Process tests for the issue 5 'Done when' list: crashes, broker restarts, corruption, preemption, relay."""

from __future__ import annotations

import time

import pytest

from tests.support.agent_proc import broker_down, wait_until

pytestmark = pytest.mark.process


def test_kill_9_between_received_and_play_at_plays_once_after_restart(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=8))
    controller.wait_ack(cmd.id, "downloaded")
    agent.kill()  # power cut while the command waits for play_at
    agent.start()
    controller.wait_ack(cmd.id, "played")
    time.sleep(1)  # let any stray duplicate ack arrive before counting
    assert controller.unique_events(cmd.id).count("played") == 1
    assert len(agent.plays(cmd.id)) == 1
    assert agent.plays(cmd.id)[0]["started_at"] >= cmd.play_at.timestamp()


def test_kill_9_right_after_publish_still_plays_once(agents, controller, media, mp3s):
    """Killed while the broker may still hold the command unacknowledged: redelivery is deduped."""
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=4))
    agent.kill()
    agent.start()
    controller.wait_ack(cmd.id, "played")
    time.sleep(1)
    assert controller.unique_events(cmd.id).count("played") == 1
    assert len(agent.plays(cmd.id)) == 1


def test_broker_restart_mid_queue_loses_and_doubles_nothing(broker, agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmds = [controller.send(controller.command("ap-1", media=m, play_in=2 + 2.5 * i)) for i in range(4)]
    controller.wait_ack(cmds[0].id, "playing")
    with broker_down(broker):
        time.sleep(3)
    # more commands after the restart, queued behind the first ones
    cmds += [controller.send(controller.command("ap-1", media=m, play_in=1 + i)) for i in range(2)]
    for cmd in cmds:
        controller.wait_ack(cmd.id, "played", timeout=90)
    time.sleep(1)
    for cmd in cmds:
        events = controller.unique_events(cmd.id)
        assert events.count("played") == 1, (cmd.id, events)
        assert "received" in events and "playing" in events
        assert len(agent.plays(cmd.id)) == 1


def test_pre_delivery_plays_at_play_at_with_broker_down_and_acks_arrive_later(
        broker, agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=8))
    controller.wait_ack(cmd.id, "downloaded")
    with broker_down(broker):
        # the agent plays on its own clock while the broker is gone
        plays = wait_until(lambda: [p for p in agent.plays(cmd.id) if p["outcome"] == "completed"],
                           timeout=60, what="playback while the broker is down")
        assert plays[0]["started_at"] >= cmd.play_at.timestamp()
        assert "played" not in controller.events(cmd.id)
    controller.wait_ack(cmd.id, "played", timeout=90)
    assert controller.unique_events(cmd.id) == ["received", "downloaded", "playing", "played"]


def test_corrupted_download_is_fetched_again_then_played(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("medium.mp3", mp3s["medium"], 3000, corrupt_next=1)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=0))
    controller.wait_ack(cmd.id, "played")
    assert len(media.files["medium.mp3"].requests) >= 2
    assert len(agent.plays(cmd.id)) == 1
    assert "sha256" in agent.log_text()


def test_download_resumes_with_range(agents, controller, media, mp3s, tmp_path):
    """A partial file left by an interrupted download is continued, not restarted."""
    agent = agents("ap-1", start=False)
    m = media.add("big.mp3", mp3s["big"], 40000)
    part = agent.data_dir / "cache" / f"{m.sha256}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(mp3s["big"][:100_000])
    agent.start()
    controller.wait_state("ap-1", lambda s: s.online)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=0, expires_in=120))
    controller.wait_ack(cmd.id, "downloaded")
    assert media.files["big.mp3"].requests[0]["range"] == "bytes=100000-"
    controller.wait_ack(cmd.id, "playing")
    controller.send(controller.command("ap-1", "stop"))
    controller.wait_ack(cmd.id, "stopped")


def test_emergency_preempts_normal_which_resumes(agents, controller, media, mp3s):
    agent = agents("ap-1")
    normal = controller.send(controller.command(
        "ap-1", media=media.add("long.mp3", mp3s["long"], 8000), play_in=0))
    controller.wait_ack(normal.id, "playing")
    time.sleep(1)
    emergency = controller.send(controller.command(
        "ap-1", media=media.add("emergency.mp3", mp3s["emergency"], 2000), play_in=0, priority="emergency"))
    controller.wait_ack(emergency.id, "played")
    controller.wait_ack(normal.id, "played", timeout=60)
    assert controller.events(normal.id) == [
        "received", "downloaded", "playing", "preempted", "playing", "played"]
    assert "emergency" in controller.acks_for(normal.id)[3].detail
    plays = agent.plays(normal.id)
    assert [p["outcome"] for p in plays] == ["interrupted", "completed"]
    em = agent.plays(emergency.id)[0]
    assert plays[0]["ended_at"] <= em["started_at"] <= plays[1]["started_at"]
    assert em["volume"] == 100 and plays[1]["volume"] == 80


def test_priority_goes_before_normal_in_the_queue(agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    first = controller.send(controller.command("ap-1", media=m, play_in=0))
    controller.wait_ack(first.id, "playing")
    normal = controller.send(controller.command("ap-1", media=m, play_in=0))
    prio = controller.send(controller.command("ap-1", media=m, play_in=0, priority="priority"))
    controller.wait_ack(normal.id, "played")
    assert agent.plays(prio.id)[0]["started_at"] < agent.plays(normal.id)[0]["started_at"]
    # priority does not preempt: the first item played to its end
    assert controller.events(first.id)[-1] == "played"


def test_relay_pin_history_follows_warmup_and_idle(agents, controller, media, mp3s):
    agent = agents("ap-1", relay={"warmup_s": 1.5, "idle_off_s": 3.0})
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=4))
    controller.wait_ack(cmd.id, "played")
    history = wait_until(lambda: (h := agent.relay_history()) and len(h) >= 3 and h, timeout=30,
                         what="relay switched off after idle")
    assert [h["pin_high"] for h in history] == [False, True, False]
    on, off = history[1]["at"], history[2]["at"]
    play = agent.plays(cmd.id)[0]
    # on a warm-up before play_at, not earlier than needed; off only after the idle timeout
    assert cmd.play_at.timestamp() - 1.5 - 0.3 <= on <= play["started_at"] - 1.5 + 0.3
    assert off - play["ended_at"] >= 3.0


def test_relay_active_low_drives_the_pin_low_for_on(agents, controller, media, mp3s):
    agent = agents("ap-1", relay={"active_high": False, "warmup_s": 0.2, "idle_off_s": 1.0})
    cmd = controller.send(controller.command(
        "ap-1", media=media.add("short.mp3", mp3s["short"], 1500), play_in=0))
    controller.wait_ack(cmd.id, "played")
    history = wait_until(lambda: (h := agent.relay_history()) and len(h) >= 3 and h, timeout=30,
                         what="relay off")
    assert [h["pin_high"] for h in history] == [True, False, True]
    assert [h["on"] for h in history] == [False, True, False]


def test_offline_acks_survive_an_agent_restart_before_the_broker_returns(
        broker, agents, controller, media, mp3s):
    agent = agents("ap-1")
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=5))
    controller.wait_ack(cmd.id, "downloaded")
    with broker_down(broker):
        wait_until(lambda: [p for p in agent.plays(cmd.id) if p["outcome"] == "completed"], timeout=60,
                   what="playback while the broker is down")
        agent.kill()  # the acks for playing/played exist only in the agent's outbox now
        agent.start()
    controller.wait_ack(cmd.id, "played", timeout=90)
    time.sleep(1)
    assert controller.unique_events(cmd.id) == ["received", "downloaded", "playing", "played"]
    assert len(agent.plays(cmd.id)) == 1
    # The outbox kept them across kill -9 and sent them at reconnect as one ack batch, in order.
    assert [[a.event for a in m] for m in controller.ack_messages
            if m[-1].command_id == cmd.id][-1] == ["playing", "played"]
