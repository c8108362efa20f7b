"""Process tests: a real agent pulls relay sessions from a real Icecast fed by ffmpeg, into its WAV sink."""

from __future__ import annotations

import http.server
import re
import subprocess
import threading
import wave
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.agent_proc import wait_until
from tests.support.icecast import TestIcecast, push_tone, stop_push
from tests.support.net_cut import CuttableLink
from tests.support.processes import free_port

pytestmark = pytest.mark.process

TOKEN = "t0ken-for-ap-1-session"  # noqa: S105 - a test listener token


def wav_seconds(path) -> float:
    """Duration of a WAV file from its size (a recording cut by kill -9 has no final header)."""
    with wave.open(str(path)) as w:
        frame = w.getnchannels() * w.getsampwidth()
        rate = w.getframerate()
    return (path.stat().st_size - 44) / frame / rate


def tone(path) -> tuple[float, float]:
    """(RMS amplitude, rough frequency in Hz) of a WAV, measured by sox."""
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True).stderr
    rms = re.search(r"RMS\s+amplitude:\s+([\d.]+)", out)
    freq = re.search(r"Rough\s+frequency:\s+(-?\d+)", out)
    assert rms and freq, f"sox could not measure {path}: {out}"
    return float(rms.group(1)), float(freq.group(1))


def heard(path, freq: int) -> bool:
    """The WAV holds a clear tone near `freq`."""
    rms, rough = tone(path)
    return rms > 0.02 and abs(rough - freq) < freq * 0.1


def recordings(agent, session_id: str) -> list:
    """The session's WAVs once its last connection has closed (its WAV header is then complete)."""
    return wait_until(lambda: (wavs := agent.stream_wavs(session_id))
                      and (conns := agent.stream_connections(session_id))
                      and conns[-1]["file"] == wavs[-1].name and wavs,
                      timeout=15, what=f"recordings of {session_id} closed")


def details(controller, command_id: str, event: str) -> list[str]:
    """The details of one kind of ack of a command, in order."""
    return [a.detail or "" for a in controller.acks_for(command_id) if a.event == event]


def test_relay_plays_survives_a_source_restart_and_ends_at_until(agents, controller, icecast, tmp_path):
    agent = agents("ap-1", stream={"retry_min_s": 0.3, "retry_max_s": 2.0})
    mount = "/relay-a"  # Opus in Ogg, named like the controller's mounts
    sources = [push_tone(icecast.source_url(mount), freq=660, log=tmp_path / "src.log")]
    try:
        _relay_through_a_restart(agent, controller, icecast, mount, sources, tmp_path)
    finally:
        for source in sources:
            stop_push(source)


def _relay_through_a_restart(agent, controller, ice, mount, sources, tmp_path):
    ice.wait_mount(mount)
    cmd = controller.send(controller.stream_command(
        "ap-1", ice.listen_url(mount), TOKEN, session_id="relay-a", lasts=22))
    controller.wait_ack(cmd.id, "stream_playing", timeout=30)
    state = controller.wait_state("ap-1", lambda s: s.playing == "relay:relay-a", timeout=15)
    assert state.relay_on
    # about 2 s of 16-bit mono (the WAV header is only complete once a connection ends)
    wait_until(lambda: (wavs := agent.stream_wavs("relay-a")) and wavs[0].stat().st_size > 150_000,
               timeout=20, what="audio in the sink")
    stop_push(sources[0])  # the upstream dies mid-session
    controller.wait_ack(cmd.id, "stream_stalled", timeout=30)
    sources.append(push_tone(ice.source_url(mount), freq=660, log=tmp_path / "src.log"))
    controller.wait_for(lambda: controller.events(cmd.id).count("stream_playing") >= 2, timeout=40,
                        what="playing again after the gap")
    agent.kill()  # a power cut mid-session: the durable queue still knows the session
    agent.start()
    controller.wait_for(lambda: controller.events(cmd.id).count("stream_playing") >= 3, timeout=40,
                        what="playing again after the restart")
    # nobody tells the agent to stop: it ends the session by itself at until
    controller.wait_ack(cmd.id, "stream_stopped", timeout=30)
    events = controller.unique_events(cmd.id)
    assert events[0] == "received" and events[-1] == "stream_stopped"
    assert details(controller, cmd.id, "stream_stopped") == ["ended"]
    stalled = details(controller, cmd.id, "stream_stalled")
    assert stalled[0].startswith("dropped:") and stalled[-1].startswith("restarted:"), stalled
    assert events.index("stream_stalled") < len(events) - 1 - events[::-1].index("stream_playing")
    # one recording per connection; the one cut by kill -9 may have lost its buffered audio
    wavs = [w for w in recordings(agent, "relay-a") if w.stat().st_size > 10_000]
    assert len(wavs) >= 2, wavs
    assert heard(wavs[0], 660) and heard(wavs[-1], 660)
    total = sum(wav_seconds(w) for w in wavs)
    assert 8 < total < 22.5, total  # 22 s session minus connect times and the gaps
    conns = agent.stream_connections("relay-a")
    assert conns[-1]["ended_at"] <= cmd.stream.until.timestamp() + 2
    assert agent.alive()
    controller.wait_state("ap-1", lambda s: s.playing is None, timeout=15)


def test_emergency_interrupts_a_relay_which_resumes_then_stop_by_session(
        agents, controller, icecast, media, mp3s, tmp_path):
    # a long stall timeout: a dead connection is noticed late, and must not hold the horn
    agent = agents("ap-1", stream={"stall_timeout_s": 30})
    mount = "/relay-b.mp3"  # MP3: the agent names the format from the extension
    source = push_tone(icecast.source_url(mount), freq=440, codec="mp3", log=tmp_path / "src.log")
    ice = icecast
    link = CuttableLink(ice.port)  # the speaker's network to Icecast, for the relay
    try:
        ice.wait_mount(mount)
        # a normal announcement on the air gives way to the relay (relay outranks it) ...
        normal = controller.send(controller.command(
            "ap-1", media=media.add("medium.mp3", mp3s["medium"], 3000), expires_in=120))
        controller.wait_ack(normal.id, "playing", timeout=30)
        relay = controller.send(controller.stream_command(
            "ap-1", link.url() + mount, TOKEN, session_id="relay-b", lasts=60))
        controller.wait_ack(relay.id, "stream_playing", timeout=30)
        assert "relay session relay-b" in controller.wait_ack(normal.id, "preempted").detail
        # ... an emergency takes the horn, then the relay comes back at the live point; the
        # network has just gone dead, and the emergency does not wait for the agent to notice
        m = media.add("emergency.mp3", mp3s["emergency"], 2000)
        link.cut()
        emergency = controller.send(controller.command("ap-1", media=m, priority="emergency"))
        controller.wait_ack(emergency.id, "playing", timeout=20)
        link.restore()
        controller.wait_ack(emergency.id, "played", timeout=30)
        assert any(d.startswith(f"preempted: announcement {emergency.id}")
                   for d in details(controller, relay.id, "stream_stalled"))
        controller.wait_for(lambda: controller.events(relay.id).count("stream_playing") >= 2,
                            timeout=30, what="relay back after the emergency")
        assert heard(agent.wav(emergency.id), 880)
        wait_until(lambda: agent.stream_wavs("relay-b")[-1].stat().st_size > 150_000, timeout=20,
                   what="relay audio after the emergency")
        # live speech outranks the relay the same way; the relay comes back when it ends
        live_source = push_tone(ice.source_url("/live-b"), freq=990, log=tmp_path / "live.log")
        try:
            ice.wait_mount("/live-b")
            live = controller.send(controller.stream_command(
                "ap-1", ice.listen_url("/live-b"), TOKEN, session_id="live-b", kind="live", lasts=5))
            controller.wait_ack(live.id, "stream_stopped", timeout=30)
        finally:
            stop_push(live_source)
        assert "stream_playing" in controller.events(live.id)
        assert details(controller, live.id, "stream_stopped") == ["ended"]
        assert "preempted: live session live-b" in details(controller, relay.id, "stream_stalled")
        assert heard(recordings(agent, "live-b")[0], 990)
        controller.wait_for(lambda: controller.events(relay.id).count("stream_playing") >= 3,
                            timeout=30, what="relay back after the live session")
        # a stop naming another session leaves this one alone
        other = controller.send(controller.command("ap-1", "stop", session_id="live-zz"))
        assert "no session live-zz" in controller.wait_ack(other.id, "stopped").detail
        stop = controller.send(controller.command("ap-1", "stop", session_id="relay-b"))
        controller.wait_ack(stop.id, "stopped")
        ack = controller.wait_ack(relay.id, "stream_stopped", timeout=15)
        assert ack.detail.startswith("stopped")
        # the preempted announcement waited for the horn and played in full after the stop
        controller.wait_ack(normal.id, "played", timeout=30)
        plays = agent.plays(normal.id)
        assert plays[-1]["outcome"] == "completed" and plays[-1]["started_at"] >= ack.at.timestamp() - 1
        wavs = recordings(agent, "relay-b")
        assert len(wavs) >= 2 and heard(wavs[-1], 440)
    finally:
        stop_push(source)
        link.close()


class OneTokenAuth:
    """Stands in for the controller's listener check: Icecast admits only `token` (loopback HTTP)."""

    def __init__(self, token: str):
        expected = token

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                query = parse_qs(urlsplit(form.get("mount", [""])[0]).query)
                self.send_response(200)
                if query.get("token") == [expected]:
                    self.send_header("icecast-auth-user", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/auth"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def guarded_icecast(tmp_path):
    """An Icecast whose every listener is checked by URL authentication."""
    auth = OneTokenAuth(TOKEN)
    # a random free port: parallel test sessions all probe upwards from 18000 and can collide
    ice = TestIcecast(tmp_path / "icecast", listener_auth_url=auth.url, port=free_port()).start()
    yield ice
    ice.stop()
    auth.close()


def test_refused_token_and_ended_session(agents, controller, guarded_icecast, tmp_path):
    ice = guarded_icecast
    agent = agents("ap-1")
    mount = "/live-c"
    source = push_tone(ice.source_url(mount), freq=550, log=tmp_path / "src.log")
    try:
        ice.wait_mount(mount)
        bad = controller.send(controller.stream_command(
            "ap-1", ice.listen_url(mount) + "?spk=ap-1", "wrong-token-0123456789", session_id="live-c",
            kind="live", lasts=30))
        ack = controller.wait_ack(bad.id, "stream_stalled", timeout=30)
        assert ack.detail.startswith("refused:") and "401" in ack.detail, ack.detail
        assert "wrong-token" not in ack.detail  # the token never leaks into acks
        # a session that already ended is refused with its reason
        late = controller.stream_command("ap-1", ice.listen_url(mount), TOKEN, session_id="old-d",
                                         play_in=-20, lasts=10)
        late = controller.send(replace(late, expires_at=late.issued_at + timedelta(minutes=5)))
        assert "already ended" in controller.wait_ack(late.id, "rejected").detail
        stop = controller.send(controller.command("ap-1", "stop", session_id="live-c"))
        controller.wait_ack(stop.id, "stopped")
        controller.wait_ack(bad.id, "stream_stopped", timeout=15)
        assert "stream_playing" not in controller.events(bad.id)
        # the same command again is a replay, and an unsigned one is refused: neither plays
        controller.publish_raw("ap-1", bad.encode())
        assert "replay" in controller.wait_ack(bad.id, "rejected").detail
        unsigned = controller.send(controller.stream_command(
            "ap-1", ice.listen_url(mount), TOKEN, session_id="live-f", kind="live"), signed=False)
        assert "signature" in controller.wait_ack(unsigned.id, "rejected").detail
        assert agent.alive() and not agent.stream_wavs("live-c")
        # the right token is let in: the same agent plays the next session
        good = controller.send(controller.stream_command(
            "ap-1", ice.listen_url(mount) + "?spk=ap-1", TOKEN, session_id="live-e", kind="live", lasts=4))
        controller.wait_ack(good.id, "stream_stopped", timeout=30)
        assert "stream_playing" in controller.events(good.id)
        assert heard(recordings(agent, "live-e")[0], 550)
    finally:
        stop_push(source)
