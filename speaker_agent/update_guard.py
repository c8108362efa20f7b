"""`python -m speaker_agent.update_guard --config PATH`: roll back an update that did not come up.

systemd runs this before every start of the agent (ExecStartPre), from the
*previous* venv: the version that installed the update and is known to work, so
a new version whose entry point is broken cannot break its own rollback. With an
unconfirmed update marker it counts the start; past the deadline or past
`update.max_starts`, it points `current` back, queues a `rolled_back` ack in the
agent's outbox (sent by the old version once connected) and clears the marker.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from protocol.messages import Ack
from speaker_agent import venvs
from speaker_agent.config import ConfigError, UpdateSettings, load
from speaker_agent.store import Store
from speaker_agent.updater import Pending

log = logging.getLogger("speaker_agent.update_guard")


def guard(cfg, now: float | None = None) -> str | None:
    """Count this start of an unconfirmed update and roll back when due; what was done, or None."""
    data = Path(cfg.data_dir)
    pending = Pending.read(data)
    if pending is None:
        return None
    now = time.time() if now is None else now
    pending.starts += 1
    if now <= pending.deadline and pending.starts <= cfg.update.max_starts:
        pending.write(data)
        return f"update to {pending.version}: start {pending.starts} of {cfg.update.max_starts}"
    why = (f"no healthy start within {cfg.update.confirm_within_s:.0f} s" if now > pending.deadline
           else f"{pending.starts - 1} starts without reaching the broker")
    if not pending.previous:
        Pending.clear(data)
        return f"update to {pending.version} failed ({why}) but there is no previous venv to go back to"
    base = Path(cfg.update.base_dir)
    venvs.point_current(base, Path(pending.previous))
    detail = f"version {pending.version} rolled back to {Path(pending.previous).name}: {why}"
    store = Store(data / "agent.db")
    try:
        ack = Ack(pending.command_id, cfg.speaker_id, "rolled_back", datetime.now(UTC), detail).encode()
        store.set_state(pending.command_id, "done", now, detail, ack)
    finally:
        store.close()
    Pending.clear(data)
    return detail


def lenient(path: str) -> SimpleNamespace:
    """speaker_id, data_dir and the [update] settings from a config this version cannot validate."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    known = {f.name for f in dataclasses.fields(UpdateSettings)}
    update = UpdateSettings(**{k: v for k, v in raw.get("update", {}).items() if k in known})
    return SimpleNamespace(speaker_id=raw["speaker_id"], data_dir=raw["data_dir"], update=update)


def main(argv: list[str] | None = None) -> int:
    """Entry point; always 0 so a guard problem never keeps the agent from starting."""
    parser = argparse.ArgumentParser(prog="speaker-agent-guard", description=__doc__)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        try:
            cfg = load(args.config)
        except ConfigError as exc:
            # A config written for the new version may carry keys this (older) code does not
            # know; the guard needs only a few of them, so it reads those and still rolls back.
            log.warning("config not valid for this version (%s); reading only what the guard needs", exc)
            cfg = lenient(args.config)
        done = guard(cfg)
    except Exception:
        log.exception("update guard failed")
        return 0
    if done:
        log.warning("%s", done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
