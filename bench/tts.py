"""Time synthesis + mastering of a 300-word announcement, cold and cached (espeak-ng engine).

Run: .venv/bin/python -m bench.tts [--runs N]
gTTS is not measured: it needs Google, and benchmarks send nothing beyond loopback.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from audio.render import render_text
from audio.settings import MasterSettings, SpeechSettings

# the commune plan the tests use (in the repository, so the bench needs nothing beside it)
SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "audio" / "data" / "ke-hoach-ve-sinh-moi-truong.txt"


def _text(words: int) -> str:
    return " ".join(SAMPLE.read_text(encoding="utf-8").split()[:words])


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _render(text: str, speech: SpeechSettings, master: MasterSettings, cache: Path):
    start, cpu = time.perf_counter(), _cpu()
    result = render_text(text, speech, master, cache)
    return time.perf_counter() - start, _cpu() - cpu, result


def main() -> None:
    """Print cold and cached render times for a 300-word text."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--offline", action="store_true", help="only the gTTS-unreachable case")
    args = parser.parse_args()
    text = _text(args.words)
    if args.offline:
        offline(" ".join(text.split()[:40]))
        return
    speech = SpeechSettings(engines=("espeak",))
    cases = {"plain": MasterSettings(), "chime + repeat 2": MasterSettings(chime=True, repeat=2)}
    print(f"# {args.words} words, espeak-ng {speech.resolved_espeak_voice}, {args.runs} runs each")
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          + subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0])
    # CPU seconds (ours + ffmpeg/espeak-ng children) tell the work apart from a busy machine's
    # waiting; the wall time is what a user waits on an idle controller.
    print("| case | audio length | cold median (min–max) | cold CPU median | cached median |")
    print("| --- | --- | --- | --- | --- |")
    for label, master in cases.items():
        cold, cold_cpu, cached = [], [], []
        length_s = 0.0
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                seconds, cpu, rendered = _render(text, speech, master, Path(tmp))
                assert not rendered.cached
                cold.append(seconds)
                cold_cpu.append(cpu)
                length_s = rendered.duration_ms / 1000
                seconds, _, again = _render(text, speech, master, Path(tmp))
                assert again.cached
                cached.append(seconds)
        print(f"| {label} | {length_s:.1f} s | {statistics.median(cold):.2f} s "
              f"({min(cold):.2f}–{max(cold):.2f}) | {statistics.median(cold_cpu):.2f} s "
              f"| {statistics.median(cached) * 1000:.1f} ms |")


def offline(text: str) -> None:
    """gTTS unreachable (stubbed to refuse the connection, as with no internet): the first render
    pays the failed attempts and opens the breaker; the next ones go straight to espeak-ng."""
    import requests
    import responses

    from tests.support.gtts_stub import GTTS_URL

    speech = SpeechSettings(engines=("gtts", "espeak"))
    print("| gTTS unreachable, chain gtts → espeak, 40 words | wall | CPU | engine |")
    print("| --- | --- | --- | --- |")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, \
            tempfile.TemporaryDirectory() as tmp:
        mock.add(responses.POST, GTTS_URL, body=requests.exceptions.ConnectionError("no route to host"))
        for label, words in (("first render", text), ("next render (breaker open)", text + " Hết.")):
            seconds, cpu, rendered = _render(words, speech, MasterSettings(), Path(tmp))
            print(f"| {label} | {seconds:.2f} s | {cpu:.2f} s | {rendered.engine} |")


if __name__ == "__main__":
    main()
