"""`speaker-agent --check`, bad config at start, presence (last will) and secrets kept out of the log."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.support.agent_proc import AGENT_BIN

pytestmark = pytest.mark.process


def run_check(agent) -> subprocess.CompletedProcess:
    return subprocess.run([str(AGENT_BIN), "--config", str(agent.config_path), "--check"],
                          capture_output=True, text=True, timeout=60)


def test_check_passes_and_reports_in_plain_words(agents):
    agent = agents("ap-1", start=False)
    out = run_check(agent)
    assert out.returncode == 0, out.stdout + out.stderr
    for words in ("config is valid", "is writable", "ffmpeg found", "relay on mock pin 17",
                  "accepted user 'ap-1'", "all checks passed"):
        assert words in out.stdout
    assert "password" not in out.stdout.lower()


def test_check_fails_on_wrong_password_and_unreachable_broker(broker, agents):
    agent = agents("ap-1", start=False)
    text = agent.config_path.read_text()
    agent.config_path.write_text(text.replace('password = "', 'password = "wrong'))
    out = run_check(agent)
    assert out.returncode == 1
    assert "FAIL  broker" in out.stdout and "refused user 'ap-1'" in out.stdout
    agent.config_path.write_text(text)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    agent.config_path.write_text(text.replace(f"port = {broker.port}", f"port = {free}"))
    out = run_check(agent)
    assert out.returncode == 1 and "cannot reach broker" in out.stdout


def test_bad_config_exits_with_the_key_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('speaker_id = "ap-1"\ndata_dir = "/tmp/x"\n[broker]\nport = "x"\n')
    out = subprocess.run([str(AGENT_BIN), "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "broker.port: must be an integer" in out.stderr


def test_killed_agent_shows_offline_then_online_again_and_never_logs_its_secret(agents, controller, broker):
    agent = agents("ap-1")
    agent.kill()
    controller.wait_state("ap-1", lambda s: not s.online, timeout=30)  # the last will
    agent.start()
    controller.wait_state("ap-1", lambda s: s.online)
    agent.stop()
    controller.wait_state("ap-1", lambda s: not s.online)  # clean shutdown says goodbye
    assert broker.passwords["ap-1"] not in agent.log_text()
    assert "speaker agent ap-1 stopped" in agent.log_text()


def test_sigterm_during_playback_requeues_and_replays_after_restart(agents, controller, media, mp3s):
    agent = agents("ap-1")
    cmd = controller.send(controller.command("ap-1", media=media.add("long.mp3", mp3s["long"], 8000)))
    controller.wait_ack(cmd.id, "playing")
    agent.stop()
    ack = controller.wait_ack(cmd.id, "preempted")
    assert "shutting down" in ack.detail
    assert "Traceback" not in agent.log_text()
    agent.start()
    controller.wait_for(lambda: controller.events(cmd.id).count("played") == 1, what="played after restart")
    assert [p["outcome"] for p in agent.plays(cmd.id)] == ["interrupted", "completed"]


def test_check_warns_about_a_readable_password_and_no_tls_and_strict_fails(agents):
    import os

    agent = agents("ap-1", start=False)
    os.chmod(agent.config_path, 0o644)
    out = run_check(agent)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "WARN  secrets" in out.stdout and "chmod 600" in out.stdout and "0644" in out.stdout
    assert "WARN  tls" in out.stdout and "tls = false" in out.stdout
    strict = subprocess.run([str(AGENT_BIN), "--config", str(agent.config_path), "--check",
                             "--strict"], capture_output=True, text=True, timeout=60)
    assert strict.returncode == 1 and "FAIL  secrets" in strict.stdout
    os.chmod(agent.config_path, 0o600)
    out = run_check(agent)
    assert out.returncode == 0 and "secrets" not in out.stdout and "WARN  tls" in out.stdout


def test_check_while_the_agent_is_away_keeps_its_queued_command(agents, controller, media, mp3s):
    agent = agents("ap-1")
    agent.stop()
    controller.wait_state("ap-1", lambda s: not s.online)
    m = media.add("short.mp3", mp3s["short"], 1500)
    cmd = controller.send(controller.command("ap-1", media=m, play_in=6))  # queued by the broker
    out = run_check(agent)  # the broker gives the check the agent's client id and session
    assert out.returncode == 0, out.stdout + out.stderr
    agent.start()
    controller.wait_ack(cmd.id, "played")
