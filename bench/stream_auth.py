"""Listener authentication cost: how long a speaker waits for the first audio byte of a mount.

The managed Icecast (generated config, URL listener auth) asks the controller's web
endpoint about every listener (Icecast → libcurl → waitress → SQL check). The floor is
the same Icecast build with open mounts. Both mounts carry the same live Opus push; a
"connect" is a fresh HTTP GET until the first byte of audio arrives.

    .venv/bin/python -m bench.stream_auth [--runs 40] [--no-write]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from bench.common import free_port, machine, ms, replace_section, summary, table, wait_until

TITLE = "Stream listener authentication"


def _first_byte(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback only
        r.read(1)
    return time.perf_counter() - t0


def _check(url: str, mount_query: str) -> float:
    from urllib.parse import urlencode

    body = urlencode({"action": "listener_add", "mount": mount_query, "ip": "127.0.0.1",
                      "client": "1", "user": "", "pass": ""}).encode()
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, data=body, timeout=10) as r:  # noqa: S310 - loopback only
        assert r.headers.get("icecast-auth-user") == "1"
    return time.perf_counter() - t0


def run(runs: int) -> dict[str, dict]:
    """Time `runs` connects to an authenticated mount and to an open one."""
    from controller.app import create_app
    from controller.config import load
    from controller.models import utcnow
    from controller.runtime import Controller
    from controller.server import WebServer
    from controller.services import registry, streams
    from tests.support.icecast import TestIcecast, push_tone, stop_push

    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-auth-"))
    ctl = Controller(load(tmp / "data", run_scheduler=False, stream_port=18500))
    port = free_port()
    ctl.streams_server.set_web_base(f"http://127.0.0.1:{port}")
    ctl.streams_server.start()
    web = WebServer(create_app(controller=ctl), "127.0.0.1", port, threads=4)
    web.start()
    floor = TestIcecast(tmp / "open", port=18600).start()
    pushers = []
    try:
        with ctl.db.session() as s:
            registry.add_speaker(s, "spk-1", "Ấp 1")
            session = streams.open_session(s, kind="live", speakers=["spk-1"], starts_at=utcnow(),
                                           until=utcnow() + timedelta(hours=1), user=None,
                                           title="bench")
            d = session.deliveries[0]
            token = streams.token_for(b"bench-key", d.command_id)
            d.token_hash = streams.token_hash(token)
            mount = session.mount
        pushers.append(push_tone(ctl.streams_server.source_url(mount)))
        pushers.append(push_tone(floor.source_url("/open")))
        wait_until(lambda: mount in (ctl.streams_server.managed.status() or {}).get("mounts", []),
                   30)
        floor.wait_mount("/open")
        authed = f"{ctl.streams_server.listen_url(mount)}?spk=spk-1&token={token}"
        check = "the controller's check alone (POST /icecast/listener)"
        out = {"open mount (floor)": [], "URL auth via the controller": [], check: []}
        for _ in range(runs):
            out["open mount (floor)"].append(_first_byte(floor.listen_url("/open")))
            out["URL auth via the controller"].append(_first_byte(authed))
            out[check].append(_check(ctl.streams_server.listener_auth_url,
                                     f"{mount}?spk=spk-1&token={token}"))
        return {k: summary(v) for k, v in out.items()}
    finally:
        for p in pushers:
            stop_push(p)
        floor.stop()
        web.stop()
        ctl.stop()


def main(argv: list[str] | None = None) -> None:
    """Run, print, and (unless --no-write) update docs/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.runs)
    rows = [[k, v["n"], ms(v["p50"]), ms(v["p99"]), ms(v["max"])] for k, v in res.items()]
    body = "\n\n".join([
        "Time from a speaker's HTTP GET of a mount to the first byte of audio, on loopback: "
        "the managed Icecast asking the controller about each listener (`listener_add` → "
        "`/icecast/listener` → token check in SQLite) against the same Icecast with an open "
        "mount. Both carry a live 32 kbps Opus push (burst-size 0, so no audio is waiting).",
        "Command:\n\n```\n.venv/bin/python -m bench.stream_auth          # --runs N\n```",
        f"Measured on {machine()}:",
        table(["connect", "n", "p50", "p99", "max"], rows),
        "Where the time goes: the floor is the wait for the next Ogg page of the live push; "
        "the controller's own check is the third row; the rest of the difference is spent "
        "inside Icecast, between queueing the listener for authentication and acting on the "
        "answer. It is paid once per (re)connect, never on the audio path.",
    ])
    print(body)
    if not args.no_write:
        replace_section(TITLE, body)


if __name__ == "__main__":
    main()
