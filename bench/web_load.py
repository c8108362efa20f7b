"""Web load: 30 API clients for 30 s against a demo-sized controller, one request in 20 a send-now.

A real `commune-radio serve` (waitress, 8 request threads) with the bench's Mosquitto and 9
simulated speakers (bench/simulator: they verify, fetch the audio, ack `playing`/`played`).
Each client loops without pause over the API a clerk's page uses: the broadcast list, the
speakers, one broadcast's detail; every 20th request (counted over all clients) is a
send-now of a new 40-word text to all 9 speakers, so every send really speaks and masters.
A request not answered within 30 s counts as a timeout. Afterwards every send must have
`played` on all 9 speakers.

A reads-only phase first gives the floor: the same clients with no sends.

    .venv/bin/python -m bench.web_load [--clients 30] [--seconds 30] [--reads-seconds 15] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from bench.common import machine, ms, replace_section, summary, table, wait_until
from bench.harness import build

N_SPEAKERS = 9
SEND_EVERY = 20
TIMEOUT_S = 30.0
WORDS = " ".join(("ủy ban nhân dân xã thông báo lịch tiêm phòng cho trẻ em dưới năm tuổi tại",
                  "trạm y tế các gia đình đưa trẻ đến đúng giờ mang theo sổ tiêm chủng và",
                  "thẻ bảo hiểm y tế để được khám sàng lọc trước khi tiêm")).split()


def send_text(n: int) -> str:
    """A new 40-word text (new every call, so nothing comes from the speech cache)."""
    words = [WORDS[(n * 7 + i) % len(WORDS)] for i in range(38)]
    return f"Thông báo số {n}: " + " ".join(words) + "."


class Load:
    """Closed-loop clients; `run(seconds, sends)` returns the measured requests."""

    def __init__(self, port: int, token: str, clients: int):
        self.port, self.token, self.clients = port, token, clients
        self.lock = threading.Lock()
        self.counter = 0
        self.last_id: int | None = None

    def _call(self, conn: http.client.HTTPConnection, method: str, path: str, body=None):
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                     headers=headers)
        r = conn.getresponse()
        return r.status, r.read()

    def _client(self, stop_at: float, sends: bool, out: list) -> None:
        conn = None
        while time.monotonic() < stop_at:
            with self.lock:
                self.counter += 1
                n = self.counter
            send = sends and n % SEND_EVERY == 0
            if send:
                req = ("POST", "/api/v1/broadcasts",
                       {"text": send_text(n), "targets": {"all": True}})
            else:
                paths = ["/api/v1/broadcasts?limit=20", "/api/v1/speakers"]
                if self.last_id:
                    paths.append(f"/api/v1/broadcasts/{self.last_id}")
                req = ("GET", paths[n % len(paths)], None)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
            t0 = time.monotonic()
            try:
                status, body = self._call(conn, *req)
                dt, ok = time.monotonic() - t0, status < 300
            except TimeoutError:
                dt, ok, status, body = TIMEOUT_S, False, 0, b""
                conn.close()
                conn = None
            except (OSError, http.client.HTTPException):
                dt, ok, status, body = time.monotonic() - t0, False, -1, b""
                conn.close()
                conn = None
            bid = None
            if send and ok:
                bid = json.loads(body)["id"]
                self.last_id = bid
            out.append({"send": send, "s": dt, "status": status, "ok": ok, "id": bid})
        if conn is not None:
            conn.close()

    def run(self, seconds: float, sends: bool) -> list[dict]:
        """Run the clients for `seconds`; every request's outcome."""
        out: list[dict] = []
        stop_at = time.monotonic() + seconds
        threads = [threading.Thread(target=self._client, args=(stop_at, sends, out), daemon=True)
                   for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + TIMEOUT_S + 10)
        return out


def _played(site, ids: list[int], timeout: float) -> tuple[int, dict]:
    """Wait until every send has ended on every speaker; (sends played on all 9, end states)."""
    ends: dict[str, int] = {}

    def done():
        ends.clear()
        finished = 0
        for bid in ids:
            _, b = site.api("GET", f"/api/v1/broadcasts/{bid}")
            for k, v in b["states"].items():
                ends[k] = ends.get(k, 0) + v
            finished += all(d["state"] in ("played", "failed", "missed", "unconfirmed", "expired",
                                           "rejected", "cancelled") for d in b["deliveries"])
        return finished == len(ids)

    with contextlib.suppress(TimeoutError):
        wait_until(done, timeout, 1.0, "every send ended")
    played = 0
    for bid in ids:
        _, b = site.api("GET", f"/api/v1/broadcasts/{bid}")
        played += b["states"] == {"played": N_SPEAKERS}
    return played, dict(ends)


def _figures(reqs: list[dict], seconds: float) -> dict:
    reads = [r for r in reqs if not r["send"]]
    sends = [r for r in reqs if r["send"]]
    return {"reads": summary([r["s"] for r in reads]), "sends": summary([r["s"] for r in sends]),
            "n": len(reqs), "rate": len(reqs) / seconds,
            "timeouts": sum(r["status"] == 0 for r in reqs),
            "errors": sum(not r["ok"] and r["status"] != 0 for r in reqs),
            "ids": [r["id"] for r in sends if r["id"]]}


def run(clients: int, seconds: float, reads_seconds: float) -> dict:
    """Set up, run the reads-only and the mixed phase, tear down; returns the figures."""
    from bench.simulator.fleet import Fleet

    with tempfile.TemporaryDirectory(prefix="web-load-") as d:
        tmp = Path(d)
        site = build(tmp, N_SPEAKERS)
        fleet = None
        try:
            site.start_controller(tmp / "controller.log")
            fleet = Fleet(host="127.0.0.1", port=site.broker_port,
                          prefix=site.ctl.settings.topic_prefix, speakers=site.speakers,
                          public_keys=site.public_keys(), processes=1, play_s=0.5)
            fleet.start()
            # One send first, so the list has something in it and the render workers are warm.
            _, b = site.api("POST", "/api/v1/broadcasts", {"text": send_text(0), "targets": {"all": True}})
            _played(site, [b["id"]], 120)
            load = Load(site.web_port, site.token, clients)
            floor = _figures(load.run(reads_seconds, sends=False), reads_seconds) if reads_seconds else None
            load0 = os.getloadavg()[0]
            mixed = _figures(load.run(seconds, sends=True), seconds)
            load1 = os.getloadavg()[0]
            played, ends = _played(site, mixed["ids"], 300)
        finally:
            if fleet is not None:
                fleet.stop()
            site.close()
    return {"floor": floor, "mixed": mixed, "played": played, "ends": ends, "clients": clients,
            "seconds": seconds, "reads_seconds": reads_seconds, "load": max(load0, load1)}


def report(fig: dict) -> str:
    """The markdown section body."""
    m, f = fig["mixed"], fig["floor"]
    command = (f".venv/bin/python -m bench.web_load --clients {fig['clients']} "
               f"--seconds {fig['seconds']:.0f} --reads-seconds {fig['reads_seconds']:.0f}")
    rows = []
    if f:
        rows.append([f"reads only, {fig['reads_seconds']:.0f} s", f["n"], f"{f['rate']:.0f}/s",
                     ms(f["reads"]["p50"]), ms(f["reads"]["p99"]), ms(f["reads"]["max"]),
                     f["timeouts"], "—"])
    rows.append([f"reads with 1 in {SEND_EVERY} a send-now, {fig['seconds']:.0f} s", m["n"],
                 f"{m['rate']:.0f}/s", ms(m["reads"]["p50"]), ms(m["reads"]["p99"]),
                 ms(m["reads"]["max"]), m["timeouts"],
                 f"{fig['played']} of {len(m['ids'])} played on all {N_SPEAKERS}"])
    rows.append(["the send-now requests themselves", m["sends"]["n"], "", ms(m["sends"]["p50"]),
                 ms(m["sends"]["p99"]), ms(m["sends"]["max"]), "", ""])
    return f"""{fig['clients']} API clients in closed loop (no pause between requests) against
`commune-radio serve` (waitress, 8 request threads) on a demo-sized site: {N_SPEAKERS} simulated
speakers (bench/simulator) that fetch the audio and acknowledge `playing`/`played`. Reads are
the broadcast list, the speaker list and one broadcast's detail; every {SEND_EVERY}th request
is a send-now of a new 40-word text (about 15 s of speech) to all {N_SPEAKERS} speakers, so each
one is really synthesized (espeak-ng) and mastered. A request unanswered after
{TIMEOUT_S:.0f} s is a timeout. The clients run in the bench's own process on the same 2 cores.

Command:

```
{command}
```

Measured on {machine()}; 1-minute load average up to {fig['load']:.1f} on {os.cpu_count()} cores
while it ran (other work shared the machine: these are upper bounds):

{table(["phase", "requests", "rate", "p50", "p99", "max", "timeouts", "sends"], rows)}

End states of the sends' deliveries: {", ".join(f"{k} {v}" for k, v in sorted(fig["ends"].items()))}.
Failed requests other than timeouts: {m["errors"]}.

Speech is made on worker processes (`controller/render_pool.py`: 2 for ordinary speech at
niceness 10, 1 kept for emergencies), not in a request thread: a send-now answers once its
rows are written, with its deliveries `rendering`, and is queued when the audio is ready.
Before, each send rendered inside one of the 8 request threads and held the GIL against
every read: 8 of 602 requests timed out at 30 s and the reads' p99 was 30 s. With 30 clients
in closed loop every read also waits behind the 29 others for one of 8 threads and 2 cores,
so the reads-only row is the floor the mixed row can be compared with. Goal: reads p99
≤ 250 ms, 0 timeouts, every send played.
"""


def main() -> None:
    """Run and (unless --no-write) update the "Web load" section of docs/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--reads-seconds", type=float, default=15)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    fig = run(args.clients, args.seconds, args.reads_seconds)
    body = report(fig)
    print(body)
    if not args.no_write:
        replace_section("Web load (30 API clients, send-now among reads)", body)


if __name__ == "__main__":
    main()
