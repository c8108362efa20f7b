"""Agent wheels of chosen versions built from this repository, and a supervisor playing systemd.

`build_wheel` copies the repository's files to a temp dir and runs `pip wheel --no-deps`
(from the configured local index); `wheel_of_version` derives other versions from it.
`Supervisor` is what the unit file does: before each start it runs the rollback guard
from `previous` (ExecStartPre), then starts `current/bin/speaker-agent`, and restarts
it whenever it exits (Restart=always).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import threading
import zipfile
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


def build_wheel(out_dir: Path, work: Path) -> Path:
    """The repository's commune-radio wheel, built by pip in an isolated build env (about 12 s)."""
    src = work / "src"
    _source_copy(src)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out_dir), str(src)],
                   check=True, capture_output=True)
    shutil.rmtree(src, ignore_errors=True)
    return next(out_dir.glob("commune_radio-*.whl"))


def wheel_of_version(base: Path, version: str, out_dir: Path, broken: bool = False) -> Path:
    """A copy of `base` as another version (renamed dist-info, METADATA, fresh RECORD hashes).

    Rewriting the built wheel gives each version in milliseconds instead of a pip build.
    `broken` replaces the agent's entry point with one that exits at once.
    """
    with zipfile.ZipFile(base) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    old_info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/METADATA"))
    old_version = old_info[len("commune_radio-"):-len(".dist-info")]
    new_info = f"commune_radio-{version}.dist-info"
    out: dict[str, bytes] = {}
    for name, data in files.items():
        if name.startswith(old_info + "/"):
            name = new_info + name[len(old_info):]
            if name.endswith("/METADATA"):
                data = data.replace(f"Version: {old_version}\n".encode(), f"Version: {version}\n".encode(), 1)
        if broken and name == "speaker_agent/__main__.py":
            data = BROKEN_MAIN.encode()
        out[name] = data
    record = f"{new_info}/RECORD"
    lines = []
    for name, data in out.items():
        if name != record:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{name},sha256={digest},{len(data)}")
    out[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    path = out_dir / f"commune_radio-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in out.items():
            zf.writestr(name, data)
    return path


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
