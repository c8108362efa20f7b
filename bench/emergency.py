"""Emergency send: a typed 40-word text → `playing` on all 9 demo speakers, offline voice, cold.

A real `commune-radio serve` with the bench's Mosquitto and 9 `speaker-agent` processes with
file sinks on loopback (as bench.alert_latency). Each round POSTs a new 40-word text as an
`emergency` send-now to all 9 speakers ("cold": the text is new, so espeak-ng speaks it and
it is mastered; nothing comes from the speech cache) and ends at the last of the 9 agents'
own `playing` acks. The round's delivery events split the time into phases. The next round
starts when all 9 have played.

Goal (issue "Seconds matter", item 6): p50 ≤ 1.0 s, p99 ≤ 1.5 s.

    .venv/bin/python -m bench.emergency [--rounds 6] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine, ms, replace_section, summary, table, wait_until
from bench.harness import build
from bench.start_skew import _start_agents
from bench.web_load import send_text

N_AGENTS = 9


def _events(site, bid: int) -> dict:
    from protocol.messages import parse_time

    _, b = site.api("GET", f"/api/v1/broadcasts/{bid}")
    out: dict[str, list[datetime]] = {}
    for d in b["deliveries"]:
        for e in d["events"]:
            out.setdefault(e["event"], []).append(parse_time(e["at"]))
    return {"b": b, "ev": out}


def _round(site, n: int) -> dict:
    text = send_text(1000 + n)
    t0 = datetime.now(UTC)
    m0 = time.monotonic()
    status, body = site.api("POST", "/api/v1/broadcasts",
                            {"text": text, "targets": {"all": True}, "priority": "emergency"})
    answered = time.monotonic() - m0
    if status != 201:
        raise RuntimeError(f"send refused: {status} {body}")
    bid = body["id"]
    got = wait_until(lambda: (lambda x: x if len(x["ev"].get("playing", [])) == N_AGENTS else None)(
        _events(site, bid)), 120, 0.05, "9 agents playing")
    ev = got["ev"]

    def last(name):
        return max(ev[name])

    fig = {
        "total": (last("playing") - t0).total_seconds(), "answer": answered,
        "render": (min(ev["queued"]) - t0).total_seconds(),
        "send": (last("sent") - min(ev["queued"])).total_seconds(),
        "fetch": (last("downloaded") - last("sent")).total_seconds(),
        "start": (last("playing") - last("downloaded")).total_seconds(),
    }
    wait_until(lambda: _events(site, bid)["b"]["states"].get("played") == N_AGENTS, 120, 0.5,
               "9 agents played")
    return fig


def run(rounds: int) -> dict:
    """Set up, run the rounds, tear down; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="emergency-") as d:
        tmp = Path(d)
        site = build(tmp, N_AGENTS)
        agents: list[subprocess.Popen] = []
        try:
            site.start_controller(tmp / "controller.log")
            agents = _start_agents(site, tmp)
            wait_until(lambda: all(s["online"] for s in site.api("GET", "/api/v1/speakers")[1]["speakers"]),
                       60, 0.3, "9 agents online")
            warm = _round(site, 0)  # first play of fresh agents
            print(f"warm-up round: {ms(warm['total'])}", flush=True)
            load = os.getloadavg()[0]
            out = []
            for i in range(rounds):
                out.append(_round(site, i + 1))
                print(f"round {i + 1}: {ms(out[-1]['total'])} "
                      f"(render {ms(out[-1]['render'])})", flush=True)
                load = max(load, os.getloadavg()[0])
        finally:
            for p in agents:
                p.terminate()
            for p in agents:
                p.wait(20)
            site.close()
    keys = ("total", "answer", "render", "send", "fetch", "start")
    return {k: summary([r[k] for r in out]) for k in keys} | {
        "rounds": rounds, "warm": warm["total"], "load": load}


def report(fig: dict) -> str:
    """The markdown section body."""
    names = [("total", "POST → last of 9 `playing`", "p50 ≤ 1.0 s, p99 ≤ 1.5 s"),
             ("answer", "the POST's own answer (broadcast stored `rendering`)", ""),
             ("render", "POST → speech ready (`queued`)", ""),
             ("send", "`queued` → last of 9 `sent`", ""),
             ("fetch", "last `sent` → last `downloaded`", ""),
             ("start", "last `downloaded` → last `playing`", "")]
    rows = [[label, ms(fig[k]["p50"]), ms(fig[k]["p99"]), ms(fig[k]["max"]), goal]
            for k, label, goal in names]
    return f"""A new 40-word text each round, sent as an `emergency` send-now through the API to all
{N_AGENTS} `speaker-agent` processes (file sink, no relay) of `commune-radio serve` with offline
speech (espeak-ng), on one machine over loopback. Cold: the text is new every round, so
synthesis and mastering are in every figure. Times end at the agents' own `playing` acks;
the phases come from the broadcast's delivery events (the agents' clock is the same machine's).

Command:

```
.venv/bin/python -m bench.emergency --rounds {fig['rounds']}
```

Measured on {machine()}, {fig['rounds']} rounds after one unmeasured warm-up round
({ms(fig['warm'])}); 1-minute load average up to {fig['load']:.1f} on {os.cpu_count()} cores while
it ran (other work shared the machine: upper bounds):

{table(["phase", "p50", "p99", "max", "goal"], rows)}

The emergency path: the POST stores the broadcast `rendering` and answers; synthesis starts
at once on the render pool (`controller/render_pool.py`), the offline voice is not kept
waiting for the online one beyond the emergency speech budget, the commands go out with no
lead time and agents pre-empt anything of a lower priority. The media is still fetched by
each agent after its command arrives (not pushed with it).
"""


def main() -> None:
    """Run and (unless --no-write) update the "Emergency send" section of docs/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    fig = run(args.rounds)
    body = report(fig)
    print(body)
    if not args.no_write:
        replace_section("Emergency send (typed text → 9 speakers playing)", body)


if __name__ == "__main__":
    main()
