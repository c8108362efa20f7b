"""Backups: one archive with a consistent database copy, the audio store, the keys and the config.

Why it is built this way:
- The controller keeps running while it is backed up. SQLite is copied with sqlite3's online
  backup API, which yields one consistent snapshot even while the ingestor writes acks in WAL
  mode (copying the .db file with cp would not: the WAL holds the newest pages). PostgreSQL
  is copied with pg_dump, which reads one MVCC snapshot.
- The archive is written as `NAME.partial` beside its target and renamed only once complete
  and flushed, so a full disk or a crash leaves the older backups and no half archive that
  looks like a good one.
- `manifest.json` lists every member with its size and SHA-256. Restore reads and checks every
  member before it writes anything into the data directory, and names the member that fails.
  This detects truncation and tampering by accident or by a careless tool; it is not a
  signature (whoever can rewrite the archive can rewrite the manifest too).
- Only what cannot be regenerated is kept: the generated broker files, the speech cache, the
  demo's sinks and logs are rebuilt on start. Agent configs hold speaker secrets, so they
  are kept like the keys: the archive is as secret as the data directory (mode 0600).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from protocol.digest import sha256_file

FORMAT = 1
KEPT_DIRS = ("audio", "keys", "agents")
KEPT_FILES = ("config.toml", "broker/port")
SQLITE_MEMBER = "db/controller.sqlite"
PG_MEMBER = "db/postgresql.sql"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class BackupInfo:
    """What one finished backup holds."""

    path: Path
    bytes: int
    files: int
    created_at: datetime


def _is_sqlite(url: str) -> bool:
    return sa.engine.make_url(url).get_backend_name() == "sqlite"


def _pg_env_and_url(url: str) -> tuple[dict, str]:
    """A libpq URL without the password (it goes in PGPASSWORD, never on a command line)."""
    u = sa.engine.make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return env, u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _copy_database(url: str, dest_dir: Path) -> Path:
    if _is_sqlite(url):
        out = dest_dir / "controller.sqlite"
        src = sqlite3.connect(sa.engine.make_url(url).database)
        dst = sqlite3.connect(out)
        try:
            with dst:
                src.backup(dst)
        except sqlite3.Error as exc:
            raise BackupError(f"copying the database failed: {exc}") from None
        finally:
            dst.close()
            src.close()
        return out
    out = dest_dir / "postgresql.sql"
    env, libpq = _pg_env_and_url(url)
    run = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "--file", str(out), libpq],
                         capture_output=True, text=True, env=env, timeout=3600)
    if run.returncode != 0:
        raise BackupError(f"pg_dump failed: {run.stderr.strip()[-300:]}")
    return out


def _members(data: Path, db_copy: Path) -> list[tuple[str, Path]]:
    items = [(SQLITE_MEMBER if db_copy.suffix == ".sqlite" else PG_MEMBER, db_copy)]
    for name in KEPT_FILES:
        if (data / name).is_file():
            items.append((name, data / name))
    for d in KEPT_DIRS:
        for p in sorted((data / d).rglob("*")) if (data / d).is_dir() else []:
            if p.is_file() and not p.name.endswith((".partial", ".tmp")):
                items.append((p.relative_to(data).as_posix(), p))
    return items


def create(settings, out: Path) -> BackupInfo:
    """Write one backup archive of the data directory to `out` (atomically: all or nothing)."""
    data = Path(settings.data_dir)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    now = datetime.now(UTC)
    try:
        with tempfile.TemporaryDirectory(prefix="backup-", dir=out.parent) as tmp:
            db_copy = _copy_database(settings.db_url, Path(tmp))
            members = _members(data, db_copy)
            manifest = {"format": FORMAT, "created_at": now.isoformat(), "database":
                        "sqlite" if db_copy.suffix == ".sqlite" else "postgresql",
                        "files": {name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                                  for name, p in members}}
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                blob = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(blob), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(blob))
                for name, p in members:
                    tar.add(p, arcname=name, recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupInfo(out, out.stat().st_size, len(manifest["files"]), now)


def _read_checked(archive: Path, into: Path) -> dict:
    """Extract to `into` and check every member against the manifest; raise naming the bad one."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            try:
                manifest = json.load(tar.extractfile("manifest.json"))
            except KeyError:
                raise BackupError("not a commune-radio backup: manifest.json is missing") from None
            if manifest.get("format") != FORMAT:
                raise BackupError(f"unknown backup format {manifest.get('format')!r}")
            tar.extractall(into, filter="data")  # refuses absolute paths, '..' and links out
    except (tarfile.TarError, EOFError, OSError, json.JSONDecodeError) as exc:
        raise BackupError(f"the archive is damaged or truncated: {exc}") from None
    for name, want in manifest["files"].items():
        p = into / name
        if not p.is_file():
            raise BackupError(f"checksum failed: {name} is missing from the archive")
        if p.stat().st_size != want["bytes"] or sha256_file(p) != want["sha256"]:
            raise BackupError(f"checksum failed: {name} does not match the manifest")
    extra = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()}
    extra -= set(manifest["files"]) | {"manifest.json"}
    if extra:
        raise BackupError(f"checksum failed: {sorted(extra)[0]} is not in the manifest")
    return manifest


def restore(archive: Path, data_dir: Path, *, force: bool = False, database_url: str = "") -> dict:
    """Restore an archive into a data directory (empty unless forced); return the manifest."""
    data = Path(data_dir).resolve()
    if data.exists() and any(data.iterdir()) and not force:
        raise BackupError(f"{data} is not empty; restore into an empty folder or use --force")
    data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="restore-", dir=data.parent) as tmp:
        staged = Path(tmp)
        manifest = _read_checked(Path(archive), staged)
        if manifest["database"] == "postgresql":
            if not database_url or _is_sqlite(database_url):
                raise BackupError("this backup holds a PostgreSQL database: give --database-url")
            _restore_postgresql(staged / PG_MEMBER, database_url, force)
            (staged / PG_MEMBER).unlink()
        else:
            (staged / SQLITE_MEMBER).rename(staged / "controller.db")
        shutil.rmtree(staged / "db", ignore_errors=True)
        (staged / "manifest.json").unlink()
        for p in sorted(staged.rglob("*")):
            if p.is_file():
                dest = data / p.relative_to(staged)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, dest)
    os.chmod(data, 0o700)
    return manifest


def _restore_postgresql(dump: Path, url: str, force: bool) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if sa.inspect(conn).get_table_names():
                if not force:
                    raise BackupError("the target PostgreSQL database is not empty; use --force")
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    env, libpq = _pg_env_and_url(url)
    run = subprocess.run(["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction",
                          "--file", str(dump), libpq], capture_output=True, text=True, env=env,
                         timeout=3600)
    if run.returncode != 0:
        raise BackupError(f"psql could not restore the database: {run.stderr.strip()[-300:]}")


def check_sqlite(path: Path) -> str:
    """SQLite's own integrity check of a restored database ('ok' when sound)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()

