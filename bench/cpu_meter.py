"""CPU% of named processes from /proc/<pid>/stat (utime + stime), sampled once a second."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    """Direct children of a process (from every thread's children list)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuMeter:
    """Samples named processes once a second; CPU% of one core per second (mean and max)."""

    def __init__(self, pids: dict[str, list[int]]):
        self.pids = pids
        self.samples: dict[str, list[float]] = {name: [] for name in pids}
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self, name: str) -> int:
        return sum(cpu_ticks(p) for p in self.pids[name])

    def _run(self) -> None:
        last = {n: self._total(n) for n in self.pids}
        t_last = time.monotonic()
        while not self._stop.wait(1.0):
            now = time.monotonic()
            for n in self.pids:
                cur = self._total(n)
                self.samples[n].append(100.0 * (cur - last[n]) / TICK / (now - t_last))
                last[n] = cur
            t_last = now
            self.loads.append(os.getloadavg()[0])

    def start(self) -> CpuMeter:
        """Start sampling."""
        self.loads.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def stop(self) -> dict[str, tuple[float, float]]:
        """Stop; (mean, max) CPU% per name."""
        self._stop.set()
        self._thread.join(5)
        return {n: (sum(v) / len(v), max(v)) if v else (float("nan"), float("nan"))
                for n, v in self.samples.items()}
