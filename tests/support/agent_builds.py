"""Agent wheels of chosen versions built from this repository, and a supervisor playing systemd.

`build_wheels` copies the repository's tracked files to a temp dir, sets the version
in pyproject.toml and runs `pip wheel --no-deps` (no network: `--no-build-isolation`).
`Supervisor` is what the unit file does: before each start it runs the rollback guard
from `previous` (ExecStartPre), then starts `current/bin/speaker-agent`, and restarts
it whenever it exits (Restart=always).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BROKEN_MAIN = '''
import sys


def main(argv=None):
    print("broken build: exits at once", file=sys.stderr)
    return 3
'''


def _source_copy(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.split()
    for rel in files:
        src = REPO / rel
        if src.is_file() and not rel.startswith(("tests/", "docs/", "bench/")):
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)


def build_wheel(version: str, out_dir: Path, work: Path, broken: bool = False) -> Path:
    """A commune-radio wheel of `version`; `broken` makes the agent's entry point exit at once."""
    src = work / f"src-{version}"
    _source_copy(src)
    pyproject = src / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('version = "0.1.0"', f'version = "{version}"', 1))
    if broken:
        (src / "speaker_agent" / "__main__.py").write_text(BROKEN_MAIN)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out_dir), str(src)], check=True, capture_output=True)
    shutil.rmtree(src, ignore_errors=True)
    return next(out_dir.glob(f"commune_radio-{version}-*.whl"))


class Supervisor:
    """Runs the agent like systemd with Restart=always and the guard as ExecStartPre."""

    def __init__(self, base: Path, config: Path, log: Path):
        self.base, self.config, self.log = base, config, log
        self.exits: list[int] = []
        self.proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Supervisor:
        """Start supervising."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with open(self.log, "ab") as log:
                guard = self.base / "previous" / "bin" / "python"
                if guard.exists():
                    subprocess.run([str(guard), "-m", "speaker_agent.update_guard", "--config",
                                    str(self.config)], stdout=log, stderr=log, check=False)
                self.proc = subprocess.Popen(
                    [str(self.base / "current" / "bin" / "speaker-agent"), "--config", str(self.config)],
                    stdout=log, stderr=log)
                self.exits.append(self.proc.wait())
            self._stop.wait(0.3)  # RestartSec

    def stop(self) -> None:
        """Stop supervising and terminate the agent."""
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._thread.join(20)
