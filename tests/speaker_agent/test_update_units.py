"""Update checks without processes: version and size refusals, the symlink switch, the guard."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from protocol.messages import Ack, Command, Update
from speaker_agent import venvs
from speaker_agent.config import parse
from speaker_agent.store import Store
from speaker_agent.update_guard import guard
from speaker_agent.updater import Pending, needed_bytes, refusal

UP = Update(version="1.2.0", url="http://127.0.0.1/u/commune_radio-1.2.0-py3-none-any.whl",
            sha256="a" * 64, bytes=5_000_000)


def test_newer_versions_are_accepted_and_older_or_equal_refused():
    assert refusal(UP, "1.1.9", free_bytes=10**10) is None
    assert refusal(UP, "1.2.0rc1", free_bytes=10**10) is None  # a release beats its candidate
    assert "downgrade refused: 1.2.0 is older than the running 1.10.0" in refusal(UP, "1.10.0", 10**10)
    assert "already running 1.2.0" in refusal(UP, "1.2.0", 10**10)
    assert "not comparable" in refusal(UP, "not a version", 10**10)


def test_an_update_that_does_not_fit_the_disk_is_refused_before_download():
    need = needed_bytes(UP.bytes)
    assert refusal(UP, "1.0.0", free_bytes=need) is None
    reason = refusal(UP, "1.0.0", free_bytes=need - 1)
    assert reason.startswith("not enough disk") and "MB free" in reason
    assert refusal(UP, "1.0.0", free_bytes=need, min_free=1).startswith("not enough disk")


def test_switch_is_a_rename_and_keeps_the_previous_target(tmp_path):
    a, b = tmp_path / "venvs" / "1.0", tmp_path / "venvs" / "1.1"
    a.mkdir(parents=True)
    b.mkdir()
    assert venvs.switch_current(tmp_path, a) is None
    assert venvs.switch_current(tmp_path, b) == a
    assert os.readlink(tmp_path / "current") == str(b)
    assert os.readlink(tmp_path / "previous") == str(a)
    assert not list(tmp_path.glob(".*.tmp"))


def _cfg(tmp_path: Path, **update):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol.signing import public_key_text

    key = public_key_text(Ed25519PrivateKey.generate().public_key())
    return parse({"speaker_id": "ap-1", "data_dir": str(tmp_path / "data"),
                  "broker": {"username": "ap-1", "password": "x"},
                  "security": {"public_keys": [key]},
                  "update": {"base_dir": str(tmp_path), **update}}, env={})


def test_guard_counts_starts_then_rolls_back_and_queues_the_ack(tmp_path):
    cfg = _cfg(tmp_path, max_starts=2, confirm_within_s=600)
    data = Path(cfg.data_dir)
    data.mkdir()
    old, new = tmp_path / "venvs" / "1.0", tmp_path / "venvs" / "1.1"
    old.mkdir(parents=True)
    new.mkdir()
    venvs.switch_current(tmp_path, new)
    store = Store(data / "agent.db")
    now = time.time()
    cmd = Command(id="u1", type="update", speaker_id="ap-1", issued_at=_utc(now),
                  expires_at=_utc(now + 3600), update=replace(UP, version="1.1"))
    store.add(cmd, cmd.encode(), now, b"{}")
    store.close()
    Pending("u1", "1.1", str(old), now + 600).write(data)
    assert "start 1 of 2" in guard(cfg)
    assert "start 2 of 2" in guard(cfg)
    assert os.readlink(tmp_path / "current") == str(new)
    detail = guard(cfg)  # the third start of a version that never confirmed
    assert detail == "version 1.1 rolled back to 1.0: 2 starts without reaching the broker"
    assert os.readlink(tmp_path / "current") == str(old)
    assert Pending.read(data) is None
    store = Store(data / "agent.db")
    acks = [Ack.decode(p) for _, p in store.outbox() if p != b"{}"]
    assert [(a.command_id, a.event) for a in acks][-1] == ("u1", "rolled_back")
    assert store.get("u1").state == "done"
    store.close()
    assert guard(cfg) is None  # nothing pending: a normal start


def test_guard_rolls_back_after_the_deadline(tmp_path):
    cfg = _cfg(tmp_path, max_starts=50, confirm_within_s=60)
    data = Path(cfg.data_dir)
    data.mkdir()
    old = tmp_path / "venvs" / "1.0"
    old.mkdir(parents=True)
    Pending("u2", "1.1", str(old), time.time() - 1).write(data)
    assert "no healthy start within 60 s" in guard(cfg)
    assert os.readlink(tmp_path / "current") == str(old)


def _utc(ts: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def test_guard_reads_a_config_written_for_a_newer_version(tmp_path):
    from speaker_agent.update_guard import main

    data = tmp_path / "data"
    data.mkdir()
    old = tmp_path / "venvs" / "1.0"
    old.mkdir(parents=True)
    cfg = tmp_path / "agent.toml"
    cfg.write_text(f'speaker_id = "ap-1"\ndata_dir = "{data}"\nnew_setting = 1\n'
                   f'[update]\nbase_dir = "{tmp_path}"\nmax_starts = 1\n')
    Pending("u3", "1.1", str(old), time.time() + 600, starts=1).write(data)
    assert main(["--config", str(cfg)]) == 0
    assert os.readlink(tmp_path / "current") == str(old)  # rolled back all the same
