"""A relay (tiếp sóng) through its faults with every part real: `commune-radio serve` (with its
managed Icecast), Mosquitto, three speaker agents recording into WAV sinks, and a station on
the session's open Icecast.

One relay to two of three speakers lives through, in turn: the speakers' network going dead
for a while (a loopback link the test cuts, see tests/support/net_cut.py); the station going
off the air and coming back with dead air first (no backup: the silence is relayed and
logged); the controller killed with -9 and started again. The speakers hold on to the session
and play until `until` by their own clock; the restarted controller picks the relay up again;
the log ends complete. (The backup switch-over is in test_relays.py.)
"""

from __future__ import annotations

import time

import pytest

from controller.config import load
from controller.runtime import Controller
from controller.services import registry, users
from protocol.messages import parse_time
from tests.speaker_agent.test_streams import heard, wav_seconds
from tests.streams.test_relays import TONE, push
from tests.support.agent_proc import AgentProcess
from tests.support.controller import fresh_db_url
from tests.support.icecast import stop_push
from tests.support.net_cut import CuttableLink
from tests.support.processes import BIN, Api, Proc, free_port, wait_for

pytestmark = pytest.mark.process
SPEAKERS = {"spk-a": "Ấp 1", "spk-b": "Ấp 1", "spk-c": "Ấp 2"}
DURATION_S = 65
DEAD_AIR_THEN_TONE = r"aevalsrc=0.125*sin(2*PI*440*t)*gte(t\,12):s=44100"
"""A station back on the air that sends 12 s of silence before its programme."""
STALL_S = 3  # the agents' stall timeout: a dead link is noticed after this long


class Serve:
    """`commune-radio serve` as a process; its data folder (and managed Icecast port) kept across kills."""

    def __init__(self, tmp, env: dict):
        self.tmp, self.env = tmp, env
        self.api = Api("", None)
        self.proc: Proc | None = None

    def start(self) -> Serve:
        port = free_port()  # a fresh web port each start: the old one may linger in TIME_WAIT
        self.api.base = f"http://127.0.0.1:{port}"
        self.proc = Proc([str(BIN / "commune-radio"), "serve", "--data", str(self.tmp / "data"),
                          "--port", str(port)], self.tmp / "logs" / "controller.log", self.env)
        self.proc.start()
        wait_for(self.api.up, timeout=60, what="the controller's web server")
        return self


@pytest.fixture
def system(tmp_path, broker):
    """The controller process, its speakers' link to Icecast, and three agents (started)."""
    ice_port = free_port()
    link = CuttableLink(ice_port)
    url = f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.controller_port}"
    settings = {"database_url": fresh_db_url(tmp_path), "tts_engines": "espeak",
                "broker_url": url, "stream_port": ice_port, "stream_public_url": link.url(),
                "relay_silence_s": 3, "relay_loopback_only": "true"}
    ctl = Controller(load(tmp_path / "data", **settings))
    with ctl.db.session() as s:
        for sid, hamlet in SPEAKERS.items():
            registry.add_speaker(s, sid, hamlet)
        users.add_user(s, "chu-tich", "approver")
        token = users.new_token(s, "chu-tich")
    keys = ctl.keys.public_keys_text()
    ctl.db.dispose()
    serve = Serve(tmp_path, {f"COMMUNE_RADIO_{k.upper()}": str(v) for k, v in settings.items()})
    serve.api.token = token
    agents = {sid: AgentProcess(tmp_path / "agents", sid, broker, keys, stream={
        "retry_min_s": 0.5, "retry_max_s": 2.0, "stall_timeout_s": STALL_S}) for sid in SPEAKERS}
    try:
        serve.start()
        for a in agents.values():
            a.start()
        wait_for(lambda: all(s["online"] for s in serve.api.call("GET", "/api/v1/speakers")[1]
                             ["speakers"]), timeout=60, what="three speakers online")
        yield serve, agents, link
    finally:
        for a in agents.values():
            a.stop()
        if serve.proc:
            serve.proc.stop()
        link.close()


def _agent_events(view: dict, sid: str) -> list[dict]:
    (d,) = [d for d in view["deliveries"] if d["speaker_id"] == sid]
    return [e for e in d["events"] if e["source"] == "agent"]


def _count(view: dict, sid: str, event: str) -> int:
    return sum(e["event"] == event for e in _agent_events(view, sid))


def _closed_wavs(agent, session: str, after: float) -> list:
    """The session's recordings whose connection opened after `after` and has closed."""
    names = {c["file"] for c in agent.stream_connections(session)
             if c["file"] and c["started_at"] > after}
    return [w for w in agent.stream_wavs(session) if w.name in names]


def test_a_relay_lives_through_a_dead_network_and_a_killed_controller(system, icecast, tmp_path):
    serve, agents, link = system
    api = serve.api
    station = push(icecast, "/vov-faults", TONE, tmp_path)
    try:
        icecast.wait_mount("/vov-faults")
        status, src = api.call("POST", "/api/v1/sources", {
            "name": "VOV1", "url": icecast.listen_url("/vov-faults")})
        assert status == 201, src
        status, relay = api.call("POST", "/api/v1/relays", {
            "source_id": src["id"], "targets": {"hamlets": ["Ấp 1"]}, "duration_s": DURATION_S})
        assert status == 201, relay
        rid = relay["id"]

        def view() -> dict:
            return api.call("GET", f"/api/v1/relays/{rid}")[1]

        def playing(n: int) -> dict | None:
            v = view()
            return v if all(_count(v, sid, "stream_playing") >= n for sid in ("spk-a", "spk-b")) else None

        v = wait_for(lambda: playing(1), timeout=60, what="both speakers of Ấp 1 playing")
        session, until = v["session"], parse_time(v["until"]).timestamp()
        wait_for(lambda: all(a.stream_wavs(session) and a.stream_wavs(session)[0].stat().st_size
                             > 60_000 for sid, a in agents.items() if sid != "spk-c"),
                 timeout=30, what="the relay in both sinks")

        # A second relay on a speaker already relaying: a conflict, and nothing is stored.
        status, body = api.call("POST", "/api/v1/relays", {
            "source_id": src["id"], "targets": {"speakers": ["spk-b", "spk-c"]}, "duration_s": 60})
        assert status == 409 and body["error"] == "relay_conflict" and "spk-b" in body["message"]
        assert [r["id"] for r in api.call("GET", "/api/v1/relays")[1]["relays"]] == [rid]

        # The speakers' network goes dead: they notice by their stall timeout, tell the
        # controller (once the link is back: the acks travel the same cable in real life, here
        # the broker stays reachable) and reconnect while the session lasts.
        cut_at = time.time()
        link.cut()

        def stalls(sid: str) -> list[str]:
            return [e["detail"] for e in _agent_events(view(), sid) if e["event"] == "stream_stalled"
                    and parse_time(e["at"]).timestamp() > cut_at]

        for sid in ("spk-a", "spk-b"):
            # first the open connection goes quiet, then the reconnects are never answered
            wait_for(lambda sid=sid: len(stalls(sid)) >= 2, timeout=30,
                     what=f"{sid}'s stalls for the dead network in the delivery log")
            assert stalls(sid)[:2] == [f"dropped: no audio for {STALL_S} s (connection stalled)",
                                       "unreachable: cannot connect: timed out"], stalls(sid)
        link.restore()
        wait_for(lambda: playing(2), timeout=30, what="both speakers playing again")

        # The station goes off the air, and comes back with dead air: the outage is a gap with
        # its reason; with no backup to switch to, the silence is relayed as it is and logged
        # as a gap of its own until the programme starts.
        stop_push(station)
        wait_for(lambda: any("upstream" in g["reason"] for g in view()["gaps"]), timeout=30,
                 what="the outage in the relay log")
        station = push(icecast, "/vov-faults", DEAD_AIR_THEN_TONE, tmp_path)
        silence = wait_for(lambda: [g for g in view()["gaps"] if "silence" in g["reason"]
                                    and g["ended_at"]], timeout=60,
                           what="the dead air logged as a gap, closed by sound")[0]
        assert silence["reason"] == "silence on the main source for over 3 s", silence
        v = view()
        assert v["state"] == "running" and not [e for e in v["events"]
                                                if e["event"] in ("backup", "main")]
        outage = [g for g in v["gaps"] if "upstream" in g["reason"]][0]
        assert outage["ended_at"] and outage["started_at"] < outage["ended_at"], outage
        wait_for(lambda: playing(3), timeout=30, what="both speakers playing the station again")
        back_at = time.time()

        # kill -9: the controller, its managed Icecast and its relay ffmpeg are gone at once.
        kill_at = time.time()
        serve.proc.kill9()
        wait_for(lambda: all(any(c["started_at"] > back_at for c in agents[sid].stream_connections(
            session)) for sid in ("spk-a", "spk-b")), timeout=30,
            what="the connections after the station came back closed by the kill")
        killed_at = time.time()
        serve.start()
        restarted_at = time.time()
        wait_for(lambda: playing(4), timeout=60, what="both speakers playing after the restart")
        assert time.time() < until, "the relay ended before the restart could be seen"

        # Nobody stops them: the agents end the session at `until` by their own clock.
        v = wait_for(lambda: (v := view())["state"] == "ended" and all(
            d["state"] == "stream_stopped" for d in v["deliveries"]) and v,
            timeout=DURATION_S + 30, what="the relay and both deliveries ended")
        assert v["reason"] == "reached its end time"
        assert sorted(d["speaker_id"] for d in v["deliveries"]) == ["spk-a", "spk-b"]
        for d in v["deliveries"]:
            stopped = [e for e in d["events"] if e["event"] == "stream_stopped"]
            assert [e["detail"] for e in stopped] == ["ended"], d["events"]
            assert parse_time(stopped[0]["at"]).timestamp() >= until - 1
            # airtime: the session less the outages, counted from the agents' own acks
            assert 0.4 * DURATION_S < d["aired_s"] < DURATION_S, d
            # what the speaker said while the controller was dead reached the log too
            assert any(e["event"] == "stream_stalled" and kill_at <= parse_time(e["at"]).timestamp()
                       <= restarted_at for e in d["events"]), d["events"]
            # and nothing that did not happen: no stall at the start (the speakers wait for the
            # relay's ffmpeg to put the mount on the air), no refused token after the restart
            # (the controller's web was listening before its Icecast asked it), none at the end
            stalled = [e for e in d["events"] if e["event"] == "stream_stalled"]
            assert not [e for e in stalled if parse_time(e["at"]).timestamp() < cut_at], stalled
            assert not [e for e in stalled if e["detail"].startswith("refused")], stalled
            assert not [e for e in stalled if parse_time(e["at"]).timestamp() > until - 2], stalled
        gaps = v["gaps"]
        assert gaps and all(g["ended_at"] for g in gaps), gaps
        assert any("controller restarted" in g["reason"] for g in gaps), gaps
        assert len(gaps) == 3, gaps  # the outage, the dead air, the restart: nothing else

        # What the speakers of Ấp 1 recorded: the station's tone before and after each fault,
        # never past `until`, about as long as the airtime; spk-c (Ấp 2) recorded nothing.
        for sid in ("spk-a", "spk-b"):
            a = agents[sid]
            wait_for(lambda a=a: a.stream_connections(session) and a.stream_connections(
                session)[-1]["ended_at"] >= until - 1, timeout=15, what=f"{sid}'s last recording")
            wavs = [w for w in a.stream_wavs(session) if w.stat().st_size > 20_000]
            assert heard(wavs[0], 440), wavs[0]
            after_cut = [w for w in _closed_wavs(a, session, cut_at) if w.stat().st_size > 20_000]
            assert after_cut and heard(after_cut[0], 440), "no sound after the network came back"
            after_kill = [w for w in _closed_wavs(a, session, killed_at)
                          if w.stat().st_size > 20_000]
            assert after_kill and heard(after_kill[-1], 440), "no sound after the restart"
            conns = a.stream_connections(session)
            # Icecast cuts the listener up to a second before `until`: no reconnecting after that
            assert not [c for p, c in zip(conns, conns[1:], strict=False)
                        if p["ended_at"] >= until - 2], conns
            last = [c for c in a.stream_connections(session) if c["file"]][-1]
            assert last["started_at"] + wav_seconds(a.sink_dir / last["file"]) <= until + 1, last
            total = sum(wav_seconds(w) for w in wavs)
            assert 0.4 * DURATION_S < total < DURATION_S + 1, (sid, total)
            assert a.alive()
        assert not agents["spk-c"].stream_wavs(session)
        assert not agents["spk-c"].stream_connections(session)
    finally:
        stop_push(station)
