"""The parent side of the simulator: spawn worker processes, talk to them over pipes."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time

from bench.simulator import worker


class Fleet:
    """N simulated speakers over `processes` worker processes."""

    def __init__(self, *, host: str, port: int, prefix: str, speakers: list[tuple[str, str]],
                 public_keys: list[str], processes: int = 4, play_s: float = 0.2,
                 heartbeat_s: float = 0.0):
        self.speakers = speakers
        self.heartbeats = 0
        """State messages the simulated speakers published (after the last report)."""
        ctx = mp.get_context("spawn")  # the bench may run threads; never fork them
        n = max(1, min(processes, len(speakers)))
        self.procs, self.conns = [], []
        for i in range(n):
            parent, child = ctx.Pipe()
            spec = {"host": host, "port": port, "prefix": prefix, "public_keys": public_keys,
                    "speakers": speakers[i::n], "play_s": play_s,
                    "heartbeat_s": heartbeat_s}
            p = ctx.Process(target=worker.main, args=(spec, child), daemon=True,
                            name=f"sim-{i}")
            self.procs.append(p)
            self.conns.append(parent)

    def start(self, timeout: float = 180.0) -> int:
        """Start every worker; return how many speakers connected and subscribed."""
        for p in self.procs:
            p.start()
        ready = 0
        deadline = time.monotonic() + timeout
        for c in self.conns:
            if not c.poll(max(0.1, deadline - time.monotonic())):
                raise RuntimeError("a simulator process did not get ready in time")
            msg = c.recv()
            ready += msg["ready"]
            if msg["lost"]:
                raise RuntimeError(f"speakers refused by the broker: {msg['lost'][:5]}")
        return ready

    def _ask(self, op: str, timeout: float = 60.0) -> list[dict]:
        for c in self.conns:
            c.send({"op": op})
        out = []
        for c in self.conns:
            if not c.poll(timeout):
                raise RuntimeError(f"simulator did not answer {op!r}")
            out.append(c.recv())
        return out

    def reset(self) -> None:
        """Forget recorded events (between runs)."""
        self._ask("reset")

    def report(self) -> tuple[dict[str, dict[str, dict[str, float]]], int, list[str]]:
        """(speaker -> command -> event -> unix time, media fetches, lost speakers)."""
        events, fetches, lost = {}, 0, []
        self.heartbeats = 0
        for r in self._ask("report"):
            events.update(r["events"])
            fetches += r["fetches"]
            lost += r["lost"]
            self.heartbeats += r.get("heartbeats", 0)
        return events, fetches, lost

    def listening(self) -> int:
        """How many speakers listen on their hamlet's group topics (membership received)."""
        return sum(r.get("listening", 0) for r in self._ask("report"))

    def blast(self, acks: dict[str, list[str]], batched: bool = False) -> None:
        """Have each speaker ack its commands (received … played) as fast as it can."""
        for c in self.conns:
            c.send({"op": "blast", "acks": acks, "batched": batched})

    def blast_done(self, timeout: float = 120.0) -> int:
        """Wait for every worker to have queued its acks; returns how many were published."""
        n = 0
        for c in self.conns:
            if not c.poll(timeout):
                raise RuntimeError("simulator did not finish its blast")
            n += c.recv()["published"]
        return n

    def stop(self) -> None:
        """Disconnect every client and end the workers."""
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.send({"op": "stop"})
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
                p.join(5)
