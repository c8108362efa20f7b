"""Relay delay: how far the relay mount lags the upstream station, by cross-correlating chirps.

`python -m bench.relay_delay [--seconds 60] [--write]`

A fake station (ffmpeg lavfi: a 0.25 s chirp every 5 s, MP3 32 kbps, real time) is pushed to
an Icecast mount. The controller's relay pipeline (controller/relay_pipeline.py: pull, level,
Opus 32 kbps, push) relays it to a second mount. Two listeners decode both mounts at once and
timestamp the samples as they arrive; each chirp is found in both by cross-correlation with
the known chirp, and its delay is its arrival on the relay mount minus its arrival on the
upstream. The floor is a bare `ffmpeg -c copy` relay of the same station in the same run.
Both relayed mounts are also heard by a speaker agent's own stream player with its file
sink (bench/agent_sink.py: each decoded frame stamped as it leaves the decoder for the
sink), so the speaker rows run from upstream to the agent's output. Everything runs on
loopback.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.agent_sink import AgentSink
from bench.common import machine, ms, replace_section, summary, table
from controller import relay_pipeline
from controller.managed_icecast import ManagedIcecast

RATE = 8000
PERIOD_S = 5.0  # longer than any delay measured (about 3 s when played), so pairs are unambiguous
CHIRP_S = 0.25
# A linear chirp 500 → 3500 Hz in the first 0.25 s of every PERIOD_S, silence otherwise.
CHIRP = (f"aevalsrc='if(lt(mod(t,{PERIOD_S:g}),{CHIRP_S:g}),0.6*sin(2*PI*(500*mod(t,{PERIOD_S:g})"
         f"+6000*mod(t,{PERIOD_S:g})*mod(t,{PERIOD_S:g}))),0)':s=44100")


def template() -> np.ndarray:
    """The chirp as the ear samples it."""
    t = np.arange(int(CHIRP_S * RATE)) / RATE
    return np.sin(2 * np.pi * (500 * t + 6000 * t * t))


class Ear:
    """An ffmpeg decoding a mount to 8 kHz PCM; remembers when each chunk arrived."""

    def __init__(self, url: str):
        self.chunks: list[tuple[float, bytes]] = []
        self.proc = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-fflags", "nobuffer",
             *relay_pipeline.FAST_OPEN, "-i", url, "-ac", "1", "-ar", str(RATE), "-f", "s16le",
             "pipe:1"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while chunk := self.proc.stdout.read1(1024):
            self.chunks.append((time.monotonic(), chunk))

    def stop(self) -> None:
        """End the decoder."""
        self.proc.terminate()
        self.proc.wait(5)

    def onsets(self) -> list[float]:
        """Arrival time (monotonic) of each chirp heard."""
        if not self.chunks:
            return []
        pcm = np.frombuffer(b"".join(c for _t, c in self.chunks), dtype="<i2").astype(float)
        # A sample's arrival: when the chunk holding it was read.
        when = np.concatenate([np.full(len(c) // 2, t) for t, c in self.chunks])
        return onsets(pcm, when[:len(pcm)])


def onsets(pcm: np.ndarray, when: np.ndarray) -> list[float]:
    """Arrival instant of each chirp in `pcm` (RATE samples, `when` = each one's arrival)."""
    if not len(pcm):
        return []
    tpl = template()
    n = len(pcm) + len(tpl)
    corr = np.fft.irfft(np.fft.rfft(pcm, n) * np.conj(np.fft.rfft(tpl, n)), n)[:len(pcm)]
    corr = np.abs(corr)
    threshold = 0.4 * corr.max()
    out, i, step = [], 0, int(PERIOD_S * RATE * 0.6)
    while i < len(corr):
        if corr[i] >= threshold:
            j = i + int(np.argmax(corr[i:i + step]))
            out.append(float(when[j]))
            i = j + step
        else:
            i += 1
    return out


def delays(up: list[float], relayed: list[float]) -> list[float]:
    """Pair each upstream chirp with the first relayed one after it (within a period)."""
    out = []
    for t in up:
        later = [r - t for r in relayed if 0 <= r - t < PERIOD_S * 0.9]
        if later:
            out.append(min(later))
    return out


def run(seconds: float) -> tuple[dict[str, list[float]], list[float]]:
    """Measure the relay pipeline and a bare copy relay side by side: (delays in s, loads)."""
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as d:
        ice = ManagedIcecast(Path(d), port=18400)
        ice.start()
        base = f"http://127.0.0.1:{ice.port}"
        src = f"icecast://source:{ice.source_password}@127.0.0.1:{ice.port}"
        station = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
             "-i", CHIRP, "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k",
             "-content_type", "audio/mpeg", "-f", "mp3", f"{src}/station"],
            stdin=subprocess.DEVNULL)
        try:
            _wait_mount(ice, "/station")
            pipe = relay_pipeline.Pipe(f"{base}/station", f"{src}/relay", silence_s=15)
            floor = subprocess.Popen(
                ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                 *relay_pipeline.FAST_OPEN, "-i", f"{base}/station", "-c", "copy",
                 "-content_type", "audio/mpeg", "-f", "mp3", f"{src}/floor"],
                stdin=subprocess.DEVNULL)
            _wait_mount(ice, "/relay")
            _wait_mount(ice, "/floor")
            ears = {name: Ear(f"{base}/{name}") for name in ("station", "relay", "floor")}
            sinks = {name: AgentSink(f"{base}/{name}", Path(d) / "sink", name).start()
                     for name in ("relay", "floor")}
            for _ in range(int(seconds // 10)):
                time.sleep(10)
                loads.append(os.getloadavg()[0])
            time.sleep(seconds % 10)
            for ear in ears.values():
                ear.stop()
            for sink in sinks.values():
                sink.stop()
            heard = {f"{name}, sink": onsets(*sink.samples(RATE)) for name, sink in sinks.items()}
            heard.update({f"{name}, played": onsets(*sink.samples(RATE, paced=True))
                          for name, sink in sinks.items()})
            pipe.stop()
            floor.terminate()
            floor.wait(5)
        finally:
            station.terminate()
            station.wait(5)
            ice.stop()
    up = ears["station"].onsets()
    return ({"relay": delays(up, ears["relay"].onsets()),
             "relay, sink": delays(up, heard["relay, sink"]),
             "relay, played": delays(up, heard["relay, played"]),
             "floor": delays(up, ears["floor"].onsets()),
             "floor, sink": delays(up, heard["floor, sink"]),
             "floor, played": delays(up, heard["floor, played"])}, loads)


def _wait_mount(ice: ManagedIcecast, mount: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while mount not in (ice.status() or {}).get("mounts", []):
        if time.monotonic() > deadline:
            raise TimeoutError(f"mount {mount} did not appear")
        time.sleep(0.1)


def report(result: dict[str, list[float]], seconds: float, loads: list[float]) -> str:
    """The markdown section."""
    rows = []
    for name, label in (("relay", "relay pipeline (level + Opus 32 kbps) → mount listener"),
                        ("relay, sink", "relay pipeline → agent's stream player, decoded"),
                        ("relay, played", "relay pipeline → agent's stream player, played at "
                                          "real time"),
                        ("floor", "bare ffmpeg -c copy (floor) → mount listener"),
                        ("floor, sink", "floor → agent's stream player, decoded"),
                        ("floor, played", "floor → agent's stream player, played at real time")):
        st = summary(result[name]) if result[name] else {"n": 0, "p50": 0, "p99": 0, "max": 0}
        rows.append([label, int(st["n"]), ms(st["p50"]), ms(st["p99"]), ms(st["max"])])
    return (f"Upstream mount → relay mount, {seconds:.0f} s of a chirp every {PERIOD_S:g} s, "
            "all mounts on one managed Icecast on loopback. Each chirp's arrival is found by "
            "cross-correlation in ears decoding at once: an ffmpeg listener on the upstream "
            "mount (the reference), one on each relayed mount, and on each relayed mount a "
            "speaker agent's own stream player with its file sink, whose decoded frames are "
            "stamped as they are handed to the output, and the same samples as a "
            "loudspeaker playing at real time would sound them (both methods are described "
            "under \"Live delay\"; the ALSA device's own buffer on a Pi comes on top). "
            "Delay = arrival at the ear minus arrival on the upstream listener.\n\n"
            f"Measured on {machine()}; 1-minute load average {min(loads):.1f} to "
            f"{max(loads):.1f} on these 2 shared cores while it ran, so the figures are upper "
            "bounds:\n\n"
            + table(["chain → ear", "chirps", "p50", "p99", "max"], rows)
            + "\n\nThe second or so above the floor is the relay's own work: the levelling "
            "filter (dynaudnorm, 200 ms frames over a 5-frame window, about 0.5 s), Opus "
            "encoding and 200 ms Ogg pages. It is paid once per relay, not per speaker. "
            f"At p50 the agent's player decoded the relayed chirps {_extra(result)} the "
            "bare listener of the same mount; playing at real time adds the backlog its "
            "connection brought (see \"Live delay\"). The relay mouth-to-speaker figure is "
            "the \"played at real time\" row.\n\n"
            "Command: `python -m bench.relay_delay --seconds "
            f"{seconds:.0f} --write`.\n")


def _extra(result: dict[str, list[float]]) -> str:
    """'10 ms after': the agent's sink against the mount listener, at p50."""
    if not (result["relay, sink"] and result["relay"]):
        return "(not comparable in this run) against"
    d = (summary(result["relay, sink"])["p50"] - summary(result["relay"])["p50"]) * 1000
    return f"{abs(d):.0f} ms {'after' if d >= 0 else 'before'}"


def main() -> None:
    """Run and print (and with --write, store in docs/benchmarks.md)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    result, loads = run(args.seconds)
    text = report(result, args.seconds, loads)
    print(text)
    if args.write:
        replace_section("Relay delay", text)


if __name__ == "__main__":
    main()
