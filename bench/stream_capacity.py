"""Stream capacity: one relay mount heard by 100 speakers at once, and what it costs.

`commune-radio serve` (its managed broker, its managed Icecast with URL listener
authentication against the controller, as in production) relays an upstream station (MP3
32 kbps, a tone pushed in real time to a separate open Icecast) to 100 registered speakers,
started through `POST /api/v1/relays`. Each speaker's listener token is the one its
play_stream command carries (HMAC of the controller's stream-token key and the command id;
the bench reads both from the controller's data folder instead of running 100 MQTT clients).

Then 100 listeners connect at once and stay for --seconds:
- --players of them are the speaker agent's own stream player (FileSinkStreamPlayer: HTTP,
  ffmpeg decoding Opus to a WAV, stamped as it grows; bench/agent_sink.py);
- the rest are cheap readers: one thread each reading the mount and parsing every Ogg page
  (granule positions give the audio time received), because 100 ffmpeg decoders would load
  the 2 shared cores more than the server side being measured.

Measured: connections admitted, bytes/s and audio seconds per second per listener, the
longest silence on the wire, how far audio fell behind real time (the buffer a speaker
needs not to underrun), connect-to-first-byte under the burst, the listener_add checks the
controller answered, and CPU% (utime+stime from /proc/<pid>/stat) of the controller
process, its relay ffmpeg and Icecast, first with no listener, then with all of them.

    .venv/bin/python -m bench.stream_capacity [--listeners 100] [--players 10] [--seconds 60] [--no-write]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from bench import harness
from bench.common import machine, percentile, replace_section, table, wait_until
from bench.cpu_meter import CpuMeter, children, cmdline
from bench.stream_listeners import SETTLE_S, UNDERRUN_S, OggReader, PlayerListener, quality

TITLE = "Stream capacity: one mount, 100 speakers"


# -- the run ---------------------------------------------------------------------------------

def _start_relay(site, upstream_url: str, speakers: list[str], seconds: float) -> int:
    status, body = site.api("POST", "/api/v1/sources", {"name": "Đài tỉnh (bench)",
                                                        "url": upstream_url})
    if status != 201:
        raise RuntimeError(f"source refused: {status} {body}")
    status, body = site.api("POST", "/api/v1/relays", {
        "source_id": body["id"], "targets": {"speakers": speakers},
        "duration_s": int(seconds + 300)})
    if status != 201:
        raise RuntimeError(f"relay refused: {status} {body}")
    return body["id"]


def _listen_urls(site, base: str) -> tuple[str, dict[str, str]]:
    """(mount, {speaker: URL with its token}) once every play_stream command has gone out."""
    from controller import keys
    from controller.services import streams
    from controller.stream_models import StreamDelivery, StreamSession

    def sent():
        with site.ctl.db.session() as s:
            rows = s.execute(sa.select(StreamSession.mount, StreamDelivery.speaker_id,
                                       StreamDelivery.command_id, StreamDelivery.token_hash)
                             .join(StreamDelivery)).all()
        return rows if rows and all(r.token_hash for r in rows) else None

    rows = wait_until(sent, 60, 0.5, "play_stream commands sent (tokens written)")
    key = keys.random_secret(site.data / "keys" / "stream-token.key")
    mount = rows[0].mount
    return mount, {r.speaker_id: f"{base}{mount}?spk={r.speaker_id}&token="
                                 f"{streams.token_for(key, r.command_id)}" for r in rows}


def _admitted_in_db(site, mount: str) -> int:
    from controller.stream_models import StreamDelivery, StreamSession

    with site.ctl.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(StreamDelivery).join(StreamSession)
                        .where(StreamSession.mount == mount,
                               StreamDelivery.listener_client.is_not(None)))


def run(listeners: int, players: int, seconds: float, idle_s: float = 10.0) -> dict:
    """Set up, measure idle then loaded, and return the figures."""
    from controller.managed_icecast import ManagedIcecast
    from tests.support.icecast import TestIcecast, push_tone, stop_push

    tmp = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    site = harness.build(tmp, listeners)
    upstream = TestIcecast(tmp / "upstream", port=18900).start()
    station = push_tone(upstream.source_url("/station"), codec="mp3", beep=True)
    out: dict = {}
    try:
        upstream.wait_mount("/station")
        site.start_controller(tmp / "controller.log")
        ice_dir = site.data / "icecast"
        wait_until(lambda: (ice_dir / "port").exists() and (ice_dir / "icecast.pid").exists(),
                   60, 0.2, "the managed Icecast")
        port = int((ice_dir / "port").read_text())
        ice = ManagedIcecast(ice_dir, port=port)  # only to read its admin statistics
        _start_relay(site, upstream.listen_url("/station"), [sid for sid, _ in site.speakers],
                     seconds)
        mount, urls = _listen_urls(site, f"http://127.0.0.1:{port}")
        wait_until(lambda: mount in (ice.status() or {}).get("mounts", []), 60, 0.2,
                   f"relay mount {mount}")
        ctl_pid = site.proc.pid
        ice_pid = int((ice_dir / "icecast.pid").read_text())
        relay_pids = [p for p in children(ctl_pid) if "ffmpeg" in cmdline(p)]
        pids = {"controller (Python)": [ctl_pid], "controller's relay ffmpeg": relay_pids,
                "Icecast": [ice_pid]}
        time.sleep(3)  # let the relay settle
        meter = CpuMeter(pids).start()
        time.sleep(idle_s)
        out["idle"] = meter.stop()
        out["idle_load"] = meter.loads

        speakers = list(urls)
        group: list = []
        for i, sid in enumerate(speakers[:listeners]):
            if i < players:
                group.append(PlayerListener(urls[sid], tmp / "sinks", f"cap-{i:03d}"))
            else:
                group.append(OggReader(urls[sid]))
        meter = CpuMeter(pids).start()
        for g in group:
            g.start()
        wrong = OggReader(urls[speakers[0]].rsplit("=", 1)[0] + "=" + "0" * 64).start()
        time.sleep(seconds)
        out["stats_listeners"] = _icecast_listeners(ice, mount)
        out["busy"] = meter.stop()
        out["busy_samples"] = meter.samples
        out["busy_load"] = meter.loads
        for g in group:
            g.stop()
        wrong.stop()
        out["group"] = group
        out["wrong"] = wrong.status
        out["admitted_db"] = _admitted_in_db(site, mount)
        log = (tmp / "controller.log").read_text(errors="replace")
        out["refused_log"] = log.count("listener refused")
        out["relay_pids"] = len(relay_pids)
    finally:
        stop_push(station)
        upstream.stop()
        site.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the players' WAVs: about 6 MB a minute each
    return out


def _icecast_listeners(ice, mount: str) -> int | None:
    """Icecast's own count of listeners on the mount (admin statistics)."""
    import xml.etree.ElementTree as ET  # noqa: N817 - the usual name

    try:
        with urllib.request.urlopen(ice._admin_request("/admin/stats"), timeout=5) as r:  # noqa: S310
            root = ET.fromstring(r.read())  # noqa: S314 - our own loopback server
    except (OSError, ET.ParseError):
        return None
    for src in root.findall("source"):
        if src.get("mount") == mount:
            return int(src.findtext("listeners") or 0)
    return None


def _pct(values: list[float]) -> str:
    vals = [v for v in values if v == v]  # drop NaN
    if not vals:
        return "n/a"
    return f"{percentile(vals, 50):.2f} / {min(vals):.2f} / {max(vals):.2f}"


def _ms3(values: list[float]) -> str:
    vals = [v * 1000 for v in values if v == v]
    if not vals:
        return "n/a"
    return f"{percentile(vals, 50):.0f} / {percentile(vals, 99):.0f} / {max(vals):.0f} ms"


def report(res: dict, listeners: int, players: int, seconds: float) -> str:
    """The markdown section."""
    rows = []
    for label, kind in ((f"agent's stream player (decodes to WAV), {players}", PlayerListener),
                        (f"Ogg page reader, {listeners - players}", OggReader)):
        g = [x for x in res["group"] if isinstance(x, kind)]
        if not g:
            continue
        q = [quality(x.timeline) for x in g]
        rows.append([
            label, f"{sum(x.admitted for x in g)} of {len(g)}",
            _pct([x.bytes_per_s() / 1000 for x in g]) if kind is OggReader else "not observed",
            _ms3([v["backlog"] for v in q]),
            _pct([v["rate"] for v in q]),
            _ms3([v["gap"] for v in q]),
            _ms3([v["late"] for v in q]),
            sum(v["underruns"] for v in q)])
    listen = table(["listeners", "admitted", "kB/s each (p50 / min / max)",
                    f"audio beyond real time in the first {SETTLE_S:.0f} s (p50 / p99 / max)",
                    f"audio s per s after {SETTLE_S:.0f} s (p50 / min / max)",
                    "longest wait for audio (p50 / p99 / max)",
                    "audio late vs real time (p50 / p99 / max)",
                    f"underruns (> {UNDERRUN_S:g} s late)"], rows)
    def settled(name: str) -> str:
        later = res["busy_samples"][name][int(SETTLE_S):]
        return f"{sum(later) / len(later):.1f} % (max {max(later):.1f} %)" if later else "n/a"

    cpu_rows = [[name, f"{res['idle'][name][0]:.1f} % (max {res['idle'][name][1]:.1f} %)",
                 f"{res['busy'][name][0]:.1f} % (max {res['busy'][name][1]:.1f} %)",
                 settled(name)] for name in res["busy"]]
    cpu = table(["process (CPU % of one core: mean, max second)", "relay, no listener",
                 f"{listeners} listeners, whole run",
                 f"{listeners} listeners, after the first {SETTLE_S:.0f} s"], cpu_rows)
    readers = [x for x in res["group"] if isinstance(x, OggReader)]
    firsts = [x.first_byte_s for x in readers if x.first_byte_s is not None]
    fb = f"{min(firsts) * 1000:.0f} ms / {_ms3(firsts)}" if firsts else "n/a"
    loads = res["idle_load"] + res["busy_load"]
    kbs = f"{percentile([x.bytes_per_s() / 1000 for x in readers], 50):.0f}" if readers else "?"
    ctl_peak = res["busy"]["controller (Python)"][1]
    fb_span = (f"{min(firsts) * 1000:.0f} to {max(firsts) * 1000:.0f} ms" if firsts else "n/a")
    fb_max = f"{max(firsts):.1f} s" if firsts else "n/a"
    qs = [quality(x.timeline) for x in res["group"]]
    underruns = sum(q["underruns"] for q in qs)
    gaps = [q["gap"] for q in qs if q["gap"] == q["gap"]]
    gap_span = f"{min(gaps) * 1000:.0f} to {max(gaps) * 1000:.0f} ms" if gaps else "n/a"
    admitted = sum(x.admitted for x in res["group"])
    return f"""{listeners} simulated speakers on one relay mount for {seconds:.0f} s: `commune-radio
serve` with its managed broker and its managed Icecast (URL listener authentication against
the controller, as in production) relays an upstream station (MP3 32 kbps, pushed in real
time to a separate Icecast) as Opus 32 kbps to {listeners} registered speakers, started with
`POST /api/v1/relays`. Each listener connects with its own speaker id and the token of its
play_stream command (the bench derives it from the controller's stream-token key and the
command id, instead of running 100 MQTT clients). All {listeners} connect at the same moment.

{players} listeners are the speaker agent's own stream player (`FileSinkStreamPlayer`, one
ffmpeg each decoding Opus to a WAV, stamped as it grows, bench/agent_sink.py); the other
{listeners - players} are cheap readers, one thread each reading the mount and parsing every Ogg
page, the granule positions giving the audio time received. 100 ffmpeg decoders would load
the 2 shared cores more than the server side being measured. "Audio late vs real time" is how
far the audio received fell behind a real-time clock started at its first audio: the output
buffer a speaker needs never to underrun; an underrun here is an episode of more than
{UNDERRUN_S:g} s late. Bytes/s: the relay's Opus encoder is VBR with a 32 kbps target; on
this test tone it spends about twice that.
CPU is utime+stime from `/proc/<pid>/stat`, sampled each second, in % of one core: first
{10:.0f} s of the relay running with no listener, then while all {listeners} listen.

Command:

```
.venv/bin/python -m bench.stream_capacity --listeners {listeners} --players {players} --seconds {seconds:.0f}
```

Measured on {machine()}; 1-minute load average {min(loads):.1f} to {max(loads):.1f} on these
2 shared cores while it ran (other work, and the {listeners} listeners themselves, shared the
machine), so the CPU figures are upper bounds:

{listen}

Admitted: {admitted} of {listeners}. The controller's `listener_add` checks: {res['admitted_db']}
admissions (the speakers' connections noted in the database) and {res['refused_log']}
refusal(s) in its log; one listener with a wrong token was sent on purpose and got
{res['wrong']}. Icecast's own statistics counted {res['stats_listeners']} listeners on the
mount at the end. Connect to first byte with all {listeners} connecting at
once (readers): {fb} (min / p50 / p99 / max).

{cpu}

Reading the figures: the relay's ffmpeg is paid once per relay, whatever the number of
speakers. Once connected, a listener costs Icecast copying about {kbs} kB/s and the
controller next to nothing (compare its columns); the controller's share is one token check per
connect, which is where its peak second ({ctl_peak:.0f} % of a core) falls, with all
{listeners} connecting at once. Those
{listeners} checks are the spread of the connect times ({fb_span}): a speaker alone waits
about 0.2 s (see "Stream listener authentication"), the last of {listeners} arriving together
waited {fb_max}, consistent with Icecast passing its listeners to the controller one after
another. "Audio beyond real time in the first {SETTLE_S:.0f} s" is audio decoded faster than real
time, which a loudspeaker would play late for the whole connection. The agent's player drops
what arrives before its decoder is ready and starts at the live point
(speaker_agent/live_point.py); before it did, this column was 3.9–4.3 s for the agent's
players with 100 connecting at once (see "Live delay"). The readers' small figure is
Icecast's first pages after admission.
Underruns in this run: {underruns}; the longest wait for audio was {gap_span} across all
{listeners} listeners, against the relay's 200 ms Ogg pages.
"""


def main(argv: list[str] | None = None) -> None:
    """Run, print, and (unless --no-write) update docs/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listeners", type=int, default=100)
    ap.add_argument("--players", type=int, default=10, help="how many are the agent's player")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.listeners, min(args.players, args.listeners), args.seconds)
    text = report(res, args.listeners, min(args.players, args.listeners), args.seconds)
    print(text)
    if not args.no_write:
        replace_section(TITLE, text)


if __name__ == "__main__":
    main()
