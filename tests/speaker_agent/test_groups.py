"""Group commands with real agents and a real broker: targets only, replay refused, an offline
agent catches up, a move to another hamlet, and a broker restart mid fan-out."""

from __future__ import annotations

import time

import pytest

from protocol.groups import member_command_id
from tests.support.agent_proc import broker_down

pytestmark = pytest.mark.process


def _start_in(agents, broker, controller, sid: str, hamlet: int):
    """An agent in a hamlet: the ACL and its membership say so, and it reports listening."""
    agent = agents(sid, start=False)
    broker.set_hamlet(sid, hamlet)
    controller.membership(sid, hamlet)  # retained: the agent reads it when it connects
    agent.start()
    controller.wait_state(sid, lambda s: s.online and s.hamlet_id == hamlet, timeout=30)
    return agent


def test_only_targets_play_a_group_command_and_a_move_follows_the_membership(
        agents, broker, controller, media, mp3s):
    t = broker.topics
    a1 = _start_in(agents, broker, controller, "ap-1", 1)
    a2 = _start_in(agents, broker, controller, "ap-2", 1)
    a3 = _start_in(agents, broker, controller, "ap-3", 2)
    m = media.add("short.mp3", mp3s["short"], 1500)
    listed = controller.group(t.hamlet_cmd(1), m, speakers=("ap-1",), play_in=1)
    commune = controller.group(t.commune_cmd(), m, hamlets=(2,), play_in=1)
    controller.wait_ack(member_command_id(listed.group, "ap-1"), "played")
    controller.wait_ack(member_command_id(commune.group, "ap-3"), "played")
    time.sleep(1)  # a non-target's ack, if any, would have arrived by now
    for g, sid, agent in [(listed, "ap-2", a2), (commune, "ap-1", a1), (commune, "ap-2", a2)]:
        cid = member_command_id(g.group, sid)
        assert controller.events(cid) == [] and agent.plays(cid) == [], (sid, g.targets)
    assert len(a1.plays(member_command_id(listed.group, "ap-1"))) == 1
    assert len(a3.plays(member_command_id(commune.group, "ap-3"))) == 1

    # Moved to hamlet 2: a new membership, no change to its config; it follows at once.
    broker.set_hamlet("ap-2", 2)
    controller.membership("ap-2", 2)
    controller.wait_state("ap-2", lambda s: s.hamlet_id == 2, timeout=30)
    moved = controller.group(t.hamlet_cmd(2), m, hamlets=(2,), play_in=1)
    for sid in ("ap-2", "ap-3"):
        controller.wait_ack(member_command_id(moved.group, sid), "played")
    old = controller.group(t.hamlet_cmd(1), m, hamlets=(1,), play_in=1)
    controller.wait_ack(member_command_id(old.group, "ap-1"), "played")
    time.sleep(1)
    assert controller.events(member_command_id(old.group, "ap-2")) == []


def test_replayed_group_command_is_refused(agents, broker, controller, media, mp3s):
    agent = _start_in(agents, broker, controller, "ap-1", 1)
    m = media.add("short.mp3", mp3s["short"], 1500)
    g = controller.group(broker.topics.hamlet_cmd(1), m, hamlets=(1,))
    cid = member_command_id(g.group, "ap-1")
    controller.wait_ack(cid, "played")
    agent.stop()
    agent.start()  # its memory of command ids is durable
    controller.wait_state("ap-1", lambda s: s.online and s.hamlet_id == 1, timeout=30)
    controller.publish_group_raw(broker.topics.hamlet_cmd(1), g.encode())  # the same bytes
    rejected = controller.wait_ack(cid, "rejected")
    assert "replay" in rejected.detail
    assert len(agent.plays(cid)) == 1


def test_agent_offline_during_the_group_publish_plays_it_on_reconnect(
        agents, broker, controller, media, mp3s):
    online = _start_in(agents, broker, controller, "ap-1", 1)
    away = _start_in(agents, broker, controller, "ap-2", 1)
    away.stop()  # its persistent session keeps its subscriptions while it is away
    controller.wait_state("ap-2", lambda s: not s.online, timeout=30)
    m = media.add("short.mp3", mp3s["short"], 1500)
    g = controller.group(broker.topics.hamlet_cmd(1), m, hamlets=(1,), play_in=1)
    controller.wait_ack(member_command_id(g.group, "ap-1"), "played")
    away.start()
    cid = member_command_id(g.group, "ap-2")
    controller.wait_ack(cid, "played")
    # The controller's per-speaker resend of the same delivery (it had no ack while the
    # agent was away) is the same command: acknowledged, never played again.
    controller.send(controller.command("ap-2", media=m, command_id=cid))
    controller.wait_ack(cid, "rejected")
    time.sleep(1)
    assert len(away.plays(cid)) == 1 and len(online.plays(member_command_id(g.group, "ap-1"))) == 1


def test_broker_restart_mid_group_fanout_loses_and_doubles_nothing(
        agents, broker, controller, media, mp3s):
    t = broker.topics
    fleet = {sid: _start_in(agents, broker, controller, sid, h)
             for sid, h in (("ap-1", 1), ("ap-2", 1), ("ap-3", 2))}
    m = media.add("short.mp3", mp3s["short"], 1500)
    groups = [controller.group(t.commune_cmd(), m, hamlets=(1, 2), play_in=2 + 2.5 * i)
              for i in range(3)]
    controller.wait_ack(member_command_id(groups[0].group, "ap-3"), "playing")
    with broker_down(broker):
        time.sleep(3)
    for sid, h in (("ap-1", 1), ("ap-2", 1), ("ap-3", 2)):  # back on their group topics
        controller.wait_state(sid, lambda s, h=h: s.online and s.hamlet_id == h, timeout=60)
    groups += [controller.group(t.hamlet_cmd(1), m, hamlets=(1,), play_in=1 + i) for i in range(2)]
    expected = [(g, sid) for g in groups for sid in fleet
                if g.targets.includes(sid, 2 if sid == "ap-3" else 1)]
    assert len(expected) == 3 * 3 + 2 * 2
    for g, sid in expected:
        controller.wait_ack(member_command_id(g.group, sid), "played", timeout=90)
    time.sleep(1)
    for g, sid in expected:
        cid = member_command_id(g.group, sid)
        assert controller.unique_events(cid).count("played") == 1, (sid, controller.events(cid))
        assert len(fleet[sid].plays(cid)) == 1
