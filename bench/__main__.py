"""`make bench` / `python -m bench`: every benchmark, in about 30 minutes on 2 cores.

The in-process benches (fan-out vs the MQTT floor, ack ingestion, delivery-log query on
PostgreSQL) write their own `## …` sections of docs/benchmarks.md. The others
(bench.start_skew, bench.log_query, bench.tts, bench.agent_idle, bench.stream_connect,
bench.live_delay, bench.relay_delay, bench.stream_auth, bench.stream_capacity,
bench.alert_latency, bench.emergency, bench.web_load) run as subprocesses, each with a time
limit; their output is printed and they keep their own sections.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time

from bench.common import ROOT, write_header

# (module, extra args, time limit in s): the subprocess benches, as they document them.
OTHERS = [
    ("bench.start_skew", [], 150),
    ("bench.log_query", ["--runs", "10"], 180),
    ("bench.tts", ["--runs", "3"], 150),
    ("bench.agent_idle", ["--seconds", "30", "--write"], 120),
    ("bench.stream_connect", ["--runs", "5", "--write"], 120),
    ("bench.live_delay", ["--rounds", "3", "--seconds", "14"], 240),
    ("bench.relay_delay", ["--seconds", "60", "--write"], 150),
    ("bench.stream_auth", ["--runs", "40"], 90),
    ("bench.stream_capacity", ["--seconds", "60"], 300),
    ("bench.alert_latency", ["--rounds", "4", "--feed-rounds", "2"], 300),
    ("bench.emergency", ["--rounds", "4"], 240),
    ("bench.web_load", ["--clients", "30", "--seconds", "30", "--reads-seconds", "15"], 300),
]
IN_PROCESS = ("fanout", "ingest", "pg_log")
# These write their section unless told `--no-write` (the others only with `--write`).
WRITE_BY_DEFAULT = {"bench.live_delay", "bench.stream_auth", "bench.stream_capacity",
                    "bench.alert_latency", "bench.emergency", "bench.web_load"}


def _run_other(module: str, args: list[str], limit: float) -> None:
    if importlib.util.find_spec(module) is None:
        print(f"## {module}: not present, skipped", flush=True)
        return
    print(f"## {module} {' '.join(args)}", flush=True)
    try:
        subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, timeout=limit,  # noqa: S603
                       check=False)
    except subprocess.TimeoutExpired:
        print(f"{module}: stopped after {limit:.0f} s", flush=True)


def main() -> None:
    """Run the selected benches in a fixed order and refresh the doc header."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="", help="comma list, e.g. fanout,ingest,pg_log,tts")
    ap.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs alone")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    def chosen(name):
        return (not only or name in only)
    flags = ["--no-write"] if args.no_write else []
    start = time.monotonic()
    if chosen("fanout"):
        from bench import fanout

        print("## fan-out vs floor", flush=True)
        fanout.main((["--runs", "5,3,2"] if args.quick else []) + flags)
    if chosen("ingest"):
        from bench import ingest

        print("## ack ingestion", flush=True)
        ingest.main((["--deliveries", "500"] if args.quick else []) + flags)
    if chosen("pg_log"):
        from bench import pg_log

        print("## delivery-log query on PostgreSQL", flush=True)
        pg_log.main((["--events", "100000"] if args.quick else []) + flags)
    for module, extra, limit in OTHERS:
        if chosen(module.split(".")[1]):
            if args.no_write:
                extra = [a for a in extra if a != "--write"]
                extra += ["--no-write"] if module in WRITE_BY_DEFAULT else []
            _run_other(module, extra, limit)
    if not args.no_write and not args.quick and not only:
        write_header("make bench")
    print(f"## all benches done in {time.monotonic() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
