"""Versioned virtualenvs and the `current` symlink: the agent's install layout on a Pi.

Layout under the base dir (default /opt/commune-radio):

    venvs/<version>/   one self-contained venv per installed version
    current -> venvs/<version>   what systemd runs (ExecStart=.../current/bin/speaker-agent)
    previous -> venvs/<version>  the version that installed `current` (runs the rollback guard)

A Pi has no internet, so a new venv cannot download dependencies. The new wheel's
base requirements are resolved against the distributions of the *running* venv and
their files are copied into the new one (no index, no network); pip then installs
the wheel alone with `--no-index --no-deps`. A requirement the running venv cannot
satisfy fails the update before anything changes. Nothing outside the new,
not-yet-linked folder is touched until the symlink swap, which is one rename, so a
power cut at any moment leaves either the old or the new `current`, both complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ALWAYS_COPY = ("pip",)  # the next update runs `python -m pip` inside the new venv


class InstallError(Exception):
    """A venv that could not be built; the running version stays as it is."""


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The base (no extras) requirements in a wheel's METADATA that apply to this Python."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            meta = Parser().parsestr(zf.read(name).decode("utf-8"))
    except (zipfile.BadZipFile, StopIteration, OSError) as exc:
        raise InstallError(f"{wheel.name} is not a wheel with metadata: {exc}") from None
    out = []
    for text in meta.get_all("Requires-Dist") or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out.append(req)
    return out


def _closure(reqs: list[Requirement], path: list[str]) -> list[metadata.Distribution]:
    """The installed distributions that satisfy `reqs` and their own requirements."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(reqs) + [Requirement(n) for n in ALWAYS_COPY]
    while todo:
        req = todo.pop()
        key = req.name.lower().replace("_", "-")
        if key in found:
            continue
        dist = next(iter(metadata.distributions(name=req.name, path=path)), None)
        if dist is None or (req.specifier and not req.specifier.contains(dist.version, prereleases=True)):
            have = f"only {dist.version}" if dist else "nothing"
            raise InstallError(f"requirement {req} is not on this speaker ({have} installed); "
                               "it cannot be downloaded here: install it in the current venv first")
        found[key] = dist
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return list(found.values())


def site_packages(venv: Path) -> Path:
    """The site-packages folder of a venv made by this Python."""
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def build_venv(target: Path, wheel: Path, *, source_path: list[str] | None = None,
               system_site_packages: bool = True, python: str | None = None) -> None:
    """Build `target` as a venv holding `wheel` plus its dependencies copied from `source_path`."""
    if target.exists():
        raise InstallError(f"{target} already exists")
    source_path = source_path if source_path is not None else sys.path
    dists = _closure(wheel_requirements(wheel), source_path)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        args = [python or _base_python(), "-m", "venv", "--without-pip"]
        if system_site_packages:
            args.append("--system-site-packages")  # apt's python3-lgpio on a Pi
        _run([*args, str(staging)], "create the venv")
        dest = site_packages(staging)
        for dist in dists:
            _copy_dist(dist, dest)
        _run([str(staging / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index", "--no-deps",
              "--disable-pip-version-check", "--no-compile", str(wheel)], f"install {wheel.name}")
        # venv scripts carry the staging path in their shebang: fix them for the final name.
        for script in (staging / "bin").iterdir():
            _retarget_shebang(script, staging, target)
        _fix_pyvenv(staging, target)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _base_python() -> str:
    """The interpreter the running venv was made from."""
    exe = getattr(sys, "_base_executable", None) or sys.executable
    return exe


def _copy_dist(dist: metadata.Distribution, dest: Path) -> None:
    """Copy one installed distribution's files (those inside site-packages) to `dest`."""
    root = Path(dist.locate_file(""))
    for rel in dist.files or []:
        if ".." in rel.parts or rel.suffix == ".pyc":
            continue  # scripts outside site-packages (pip writes its own), and caches
        src = root / rel
        if not src.is_file():
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, out)


def _retarget_shebang(script: Path, old: Path, new: Path) -> None:
    if script.is_symlink() or not script.is_file():
        return
    data = script.read_bytes()
    if data.startswith(b"#!") and str(old).encode() in data.split(b"\n", 1)[0]:
        first, rest = data.split(b"\n", 1)
        script.write_bytes(first.replace(str(old).encode(), str(new).encode()) + b"\n" + rest)


def _fix_pyvenv(staging: Path, target: Path) -> None:
    cfg = staging / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(str(staging), str(target)))


def _run(args: list[str], what: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise InstallError(f"could not {what}: {' / '.join(tail)}")


def switch_current(base: Path, version_dir: Path) -> Path | None:
    """Point `current` at `version_dir` atomically; `previous` at the old target. The old target."""
    current = base / "current"
    old = Path(os.readlink(current)) if current.is_symlink() else None
    if old is not None:
        _atomic_link(base / "previous", old)
    _atomic_link(current, version_dir)
    return old


def _atomic_link(link: Path, target: Path) -> None:
    """Make `link` point at `target` with one rename (a power cut leaves old or new, never none)."""
    tmp = link.with_name(f".{link.name}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    fd = os.open(link.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def point_current(base: Path, target: Path) -> None:
    """Point `current` back at `target` (rollback), atomically."""
    _atomic_link(base / "current", target)
