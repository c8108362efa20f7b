"""Time synthesis + mastering of a 300-word announcement, cold and cached (espeak-ng engine).

Run: .venv/bin/python -m bench.tts [--runs N]
gTTS is not measured: it needs Google, and benchmarks send nothing beyond loopback.
"""

from __future__ import annotations

import argparse
import platform
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


def _render(text: str, speech: SpeechSettings, master: MasterSettings, cache: Path):
    start = time.perf_counter()
    result = render_text(text, speech, master, cache)
    return time.perf_counter() - start, result


def main() -> None:
    """Print cold and cached render times for a 300-word text."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--words", type=int, default=300)
    args = parser.parse_args()
    text = _text(args.words)
    speech = SpeechSettings(engines=("espeak",))
    cases = {"plain": MasterSettings(), "chime + repeat 2": MasterSettings(chime=True, repeat=2)}
    print(f"# {args.words} words, espeak-ng {speech.resolved_espeak_voice}, {args.runs} runs each")
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          + subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0])
    print("| case | audio length | cold median (min–max) | cached median |")
    print("| --- | --- | --- | --- |")
    for label, master in cases.items():
        cold, cached = [], []
        length_s = 0.0
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                seconds, rendered = _render(text, speech, master, Path(tmp))
                assert not rendered.cached
                cold.append(seconds)
                length_s = rendered.duration_ms / 1000
                seconds, again = _render(text, speech, master, Path(tmp))
                assert again.cached
                cached.append(seconds)
        print(f"| {label} | {length_s:.1f} s | {statistics.median(cold):.2f} s "
              f"({min(cold):.2f}–{max(cold):.2f}) | {statistics.median(cached) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
