"""`commune-radio demo`: the whole system on one machine, with simulated speakers.

Everything stays on loopback. Speech uses the offline espeak-ng engine, because the
demo must not reach out to the internet (gTTS would).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from controller import agent_config, demo_station
from controller.config import Settings
from controller.demo_station import DemoStation
from controller.server import WebServer, free_web_port, wait_for_signal
from controller.services.errors import ServiceError

log = logging.getLogger(__name__)
ADMIN = "admin"


def agent_command() -> list[str]:
    """How to start a speaker agent from this installation."""
    script = Path(sys.executable).with_name("speaker-agent")
    return [str(script)] if script.exists() else [sys.executable, "-m", "speaker_agent"]


def seed(ctl, n: int) -> str:
    """Create N hamlets with one speaker each and the admin account; return the admin password."""
    from controller.services import registry, users

    pw_file = ctl.data / "demo" / "admin-password"
    with ctl.db.session() as s:
        for i in range(1, n + 1):
            if s.get(registry.Speaker, f"ap-{i}") is None:
                registry.add_speaker(s, f"ap-{i}", f"Ấp {i}", name=f"Loa ấp {i}",
                                     latitude=10.48 + 0.01 * (i % 3),
                                     longitude=105.32 + 0.01 * (i // 3))
        try:
            users.get_user(s, ADMIN)
            password = pw_file.read_text().strip() if pw_file.exists() else None
        except users.NotFound:
            password = None
            users.add_user(s, ADMIN, "admin", password := secrets.token_urlsafe(9), actor="demo")
        if password is None:  # admin exists but we lost its password: set a new one
            password = secrets.token_urlsafe(9)
            users.get_user(s, ADMIN).password_hash = users.hash_password(password)
    agent_config.write(pw_file, password + "\n")
    return password


def write_agent_configs(ctl, n: int) -> list[Path]:
    """Fresh credentials and a config file per simulated speaker."""
    from controller.services import registry

    paths = []
    addr = ctl.broker_address()
    for i in range(1, n + 1):
        sid = f"ap-{i}"
        with ctl.db.session() as s:
            secret = registry.reset_secret(s, sid)
        base = ctl.data / "demo" / "agents" / sid
        text = agent_config.render(
            speaker_id=sid, password=secret, host="127.0.0.1", port=addr.port,
            prefix=ctl.settings.topic_prefix, public_keys=ctl.keys.public_keys_text(),
            data_dir=str((base / "data").resolve()), backend="file",
            sink_dir=str((ctl.data / "demo" / "sink" / sid).resolve()), relay_mock=True)
        path = base / "agent.toml"
        agent_config.write(path, text)
        paths.append(path)
    ctl.sync_broker_auth()
    return paths


def stream_hint(ctl) -> str:
    """How to push a live test into the demo's Icecast from the command line."""
    srv = ctl.streams_server
    host = srv.source_url("/live-N").split("@", 1)[1].split("/", 1)[0]
    return (f"  Icecast:   {srv.base_url()}/ (streams; speakers need a session token to listen)\n"
            f"  Live test: open a live session (POST /api/v1/live, or the page Phát trực tiếp),\n"
            f"    then push a tone with the login its answer shows (ingest.icecast):\n"
            f"    ffmpeg -re -f lavfi -i sine=frequency=440:beep_factor=4 -ac 1 -c:a libopus "
            f"-b:a 32k -page_duration 20000 -content_type audio/ogg -f ogg "
            f"icecast://USERNAME:PASSWORD@{host}/live-N\n")


def station_hint(station_id: int | None, web_port: int, host: str) -> str:
    """How to try tiếp sóng with the demo's own station."""
    if station_id is None:
        return ""
    return (f"  Tiếp sóng: the source '{demo_station.NAME}' (a beeping tone, id {station_id}) is\n"
            f"    ready on http://{host}:{web_port}/relays, or: POST /api/v1/relays "
            f"{{\"source_id\": {station_id}, \"targets\": {{\"all\": true}}, \"duration_s\": 60}}\n")


def run_demo(settings: Settings, n: int, port: int, province: bool = False) -> None:
    """Seed, start the controller and the agents, print how to log in, run until Ctrl-C."""
    from controller.app import create_app
    from controller.runtime import Controller

    if not shutil.which("espeak-ng"):
        raise SystemExit("espeak-ng is missing: run `make run` (it installs it)")
    settings = dataclasses.replace(settings, tts_engines=("espeak",))
    mock = None
    if province:
        from controller.province.demo import link_settings

        mock, settings = link_settings(settings, n)
    ctl = Controller(settings)
    password = seed(ctl, n)
    web_port = free_web_port(settings.web_host, port)
    ctl.start(web_port=web_port)
    configs = write_agent_configs(ctl, n)
    agents = []
    logs = ctl.data / "demo" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for cfg in configs:
        # The agent logs to NAME.log, rotated at 1 MB (a demo left running for weeks must not
        # fill the disk); NAME.out keeps only what comes before logging starts (a crash).
        out = open(logs / f"{cfg.parent.name}.out", "ab")  # noqa: SIM115 - lives as long as the agent
        # Their own session: Ctrl-C reaches only the demo, which stops the agents first,
        # while the broker is still up for their last acks and their "offline" state.
        agents.append(subprocess.Popen([*agent_command(), "--config", str(cfg), "--log-file",
                                        str(logs / f"{cfg.parent.name}.log")], stdout=out,
                                       stderr=subprocess.STDOUT, env=dict(os.environ),
                                       start_new_session=True))
    station = DemoStation(ctl.data / "demo" / "station")
    try:
        station_id = demo_station.register(ctl, station.start(), ADMIN)
    except (RuntimeError, OSError, ServiceError) as exc:  # the demo still runs without it
        log.warning("the demo station did not start: %s", exc)
        station_id = None
    web = WebServer(create_app(controller=ctl), settings.web_host, web_port)
    web.start()
    print(
        f"\ncommune-radio demo is running with {n} simulated speakers.\n"
        f"  Web page:  http://{settings.web_host}:{web_port}/\n"
        f"  Login:     {ADMIN} / {password}\n"
        f"  Audio the speakers 'played' is decoded to: {ctl.data / 'demo' / 'sink'}\n"
        f"  Agent logs: {logs}\n"
        f"{stream_hint(ctl)}"
        f"{station_hint(station_id, web_port, settings.web_host)}"
        f"{mock.hint(web_port) if mock else ''}"
        f"Press Ctrl-C to stop.\n", flush=True)
    try:
        wait_for_signal()
    finally:
        stop_agents(agents)
        web.stop()
        ctl.stop()
        station.stop()
        if mock:
            mock.stop()
        log.info("demo stopped")


def stop_agents(agents: list[subprocess.Popen], timeout: float = 10.0) -> None:
    """SIGTERM every agent at once, give them one shared deadline, then kill the stragglers."""
    for p in agents:
        p.terminate()
    deadline = time.monotonic() + timeout
    for p in agents:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("speaker agent pid %d did not stop in %.0f s; killing it", p.pid, timeout)
            p.kill()
            p.wait()
