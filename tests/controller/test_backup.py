"""Backups: what a restore refuses (truncated, tampered, non-empty target), a full disk during a
backup, retention and the status the admin page shows."""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
import tarfile
from datetime import UTC, datetime, timedelta

import pytest

from controller import backup
from controller.backup_runner import BackupRunner
from controller.services import registry


@pytest.fixture
def filled(controller, tmp_path):
    """A controller data folder with a speaker, and two audio files in the store."""
    with controller.db.session() as s:
        registry.add_speaker(s, "ap-1", "Ấp 1")
    for i in range(2):
        src = tmp_path / f"a{i}.mp3"
        src.write_bytes(os.urandom(40_000))
        controller.store.put(src)
    return controller


def _rewrite(archive, out, change):
    """Copy a backup archive, passing each member's bytes through change(name, data)."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for m in src.getmembers():
            data = change(m.name, src.extractfile(m).read())
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))


def test_restore_refuses_a_tampered_file_naming_it(filled, tmp_path):
    arch = backup.create(filled.settings, tmp_path / "b.tar.gz").path
    bad = tmp_path / "tampered.tar.gz"
    key = "keys/command-signing.pem"
    _rewrite(arch, bad, lambda n, d: b"-----BEGIN PRIVATE KEY-----evil" if n == key else d)
    with pytest.raises(backup.BackupError, match="checksum failed: keys/command-signing.pem"):
        backup.restore(bad, tmp_path / "restored")
    assert not (tmp_path / "restored" / "keys").exists(), "nothing half-restored"


def test_restore_refuses_a_truncated_archive(filled, tmp_path):
    arch = backup.create(filled.settings, tmp_path / "b.tar.gz").path
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(arch.read_bytes()[: arch.stat().st_size // 2])
    with pytest.raises(backup.BackupError, match="damaged or truncated"):
        backup.restore(cut, tmp_path / "restored")
    not_ours = tmp_path / "other.tar.gz"
    not_ours.write_bytes(gzip.compress(b"not a tar"))
    with pytest.raises(backup.BackupError):
        backup.restore(not_ours, tmp_path / "restored2")


def test_restore_needs_an_empty_folder_unless_forced(filled, tmp_path):
    arch = backup.create(filled.settings, tmp_path / "b.tar.gz").path
    target = tmp_path / "restored"
    target.mkdir()
    (target / "something").write_text("x")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(arch, target, database_url=os.environ.get("COMMUNE_RADIO_TEST_DB", ""))
    assert (target / "something").read_text() == "x"


def test_an_unreadable_backup_on_the_cli_is_a_clean_error(tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"\x1f\x8b garbage")
    out = subprocess.run([".venv/bin/commune-radio", "restore", str(bad), "--data", str(tmp_path / "r")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "restore refused" in out.stderr and "Traceback" not in out.stderr


def test_retention_keeps_the_newest_and_status_reports_age_and_alarm(filled):
    runner = BackupRunner(filled.settings)
    t0 = datetime.now(UTC)
    assert runner.status(t0)["alarm"] is True  # never backed up
    for i in range(filled.settings.backup_keep + 2):
        runner.run(t0 + timedelta(minutes=i))
    names = [p.name for p in runner.archives()]
    assert len(names) == filled.settings.backup_keep
    last = t0 + timedelta(minutes=filled.settings.backup_keep + 1)
    assert names[-1].endswith(f"{last:%Y%m%d-%H%M%S}.tar.gz")
    st = runner.status(last + timedelta(hours=1))
    assert (st["alarm"], st["age_s"], st["last_error"]) == (False, 3600, None)
    assert runner.status(last + timedelta(days=2, minutes=1))["alarm"] is True


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs (a real full disk) needs root")
def test_a_full_disk_removes_the_partial_keeps_old_backups_and_shows_the_failure(filled, tmp_path):
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], check=True)
    try:
        from dataclasses import replace

        runner = BackupRunner(replace(filled.settings, backup_dir=str(folder)))
        first = runner.run()  # a few hundred kB: fits once
        src = tmp_path / "big.mp3"
        src.write_bytes(os.urandom(4_000_000))
        filled.store.put(src)  # the next backup no longer fits
        with pytest.raises((OSError, backup.BackupError)):
            runner.run()
        assert [p.name for p in folder.iterdir() if p.name != "status.json"] == [first.path.name]
        st = runner.status()
        assert re.search("No space left|disk is full", st["last_error"]), st
        assert st["last_file"] == first.path.name and st["alarm"] is False
    finally:
        subprocess.run(["umount", str(folder)], check=True)
