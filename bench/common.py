"""Shared bench helpers: percentiles, machine description, markdown tables, and an idempotent
writer that replaces one `## Section` of docs/benchmarks.md without touching the others."""

from __future__ import annotations

import math
import os
import platform
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEADER_START = "<!-- bench:header -->"
HEADER_END = "<!-- /bench:header -->"


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation between closest ranks."""
    xs = sorted(values)
    if not xs:
        return math.nan
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(values: Iterable[float]) -> dict[str, float]:
    """n, p50, p99, min and max of a sample."""
    xs = list(values)
    return {"n": len(xs), "p50": percentile(xs, 50), "p99": percentile(xs, 99),
            "min": min(xs) if xs else math.nan, "max": max(xs) if xs else math.nan}


def ms(seconds: float) -> str:
    """Seconds as a short millisecond figure."""
    if math.isnan(seconds):
        return "n/a"
    v = seconds * 1000
    return f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms"


def table(headers: list[str], rows: list[list]) -> str:
    """A GitHub markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def machine() -> str:
    """One line: CPU model, cores, memory, OS, Python, Mosquitto version."""
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    try:
        osname = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        osname = platform.system()
    mosq = "?"
    try:
        out = subprocess.run(["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True,
                             timeout=5).stdout
        mosq = out.splitlines()[0].split("version")[-1].strip() if out else "?"
    except (OSError, subprocess.SubprocessError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, {osname}, "
            f"Python {platform.python_version()}, Mosquitto {mosq}")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.02,
               what: str = "condition"):
    """Poll until predicate() is truthy; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _split_sections(text: str) -> list[str]:
    # A section runs from its `## ` heading to the next `## ` heading (or the end).
    return re.split(r"(?m)^(?=## )", text)


def replace_section(title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the `## title` block of the doc; other sections are left as they are."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\n"
    block = f"## {title}\n\n{body.strip()}\n\n"
    parts = _split_sections(text)
    for i, part in enumerate(parts):
        if part.splitlines()[0:1] == [f"## {title}"]:
            parts[i] = block
            break
    else:
        if not parts[-1].endswith("\n\n"):
            parts[-1] = parts[-1].rstrip("\n") + "\n\n"
        parts.append(block)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("".join(parts).rstrip("\n") + "\n", encoding="utf-8")


def write_header(command: str, doc: Path = DOC, when: datetime | None = None) -> None:
    """Put (or refresh) the 'How to reproduce' block just before the first `## ` section."""
    when = when or datetime.now(UTC)
    block = (f"{HEADER_START}\n**How to reproduce:** `{command}` (about 10 minutes on 2 cores; "
             f"`python -m bench --help` lists the options).\n\n"
             f"Last full run: {when:%Y-%m-%d %H:%M} UTC on {machine()}.\n{HEADER_END}\n\n")
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\n"
    if HEADER_START in text and HEADER_END in text:
        head, rest = text.split(HEADER_START, 1)
        tail = rest.split(HEADER_END, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        m = re.search(r"(?m)^## ", text)
        cut = m.start() if m else len(text)
        text = text[:cut].rstrip("\n") + "\n\n" + block + text[cut:]
    doc.write_text(text, encoding="utf-8")
