"""Independent loudness check: ffmpeg's ebur128 filter, parsed here, not by the code under test."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of an audio file, per ffmpeg ebur128."""
    proc = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true:framelog=verbose",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    summary = proc.stderr.split("Summary:")[-1]
    integrated = float(re.search(r"\bI:\s+(-?[0-9.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?inf|-?[0-9.]+) dBFS", summary).group(1))
    return integrated, peak
