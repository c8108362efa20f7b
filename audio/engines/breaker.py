"""Circuit breaker: remember that a speech engine failed, so renders skip it until a retry time.

Without it an offline commune pays gTTS's failed attempts (~3 s) on every announcement.
The state is a small JSON file next to the audio cache, so renders in worker processes and
the web page that shows it see the same thing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STATE_FILE = "engine-state.json"
_lock = threading.Lock()


@dataclass(frozen=True)
class EngineState:
    """One engine's failure record: when it went down, why, and when it is tried again."""

    engine: str
    failed_at: float
    retry_at: float
    reason: str

    def is_open(self, now: float | None = None) -> bool:
        """True while renders should skip the engine."""
        return (time.time() if now is None else now) < self.retry_at


class Breaker:
    """Per-engine breaker persisted in `<cache_dir>/engine-state.json`."""

    def __init__(self, cache_dir: Path, retry_after_s: float) -> None:
        self.path = Path(cache_dir) / STATE_FILE
        self.retry_after_s = retry_after_s

    def states(self) -> dict[str, EngineState]:
        """Every engine with a recorded failure (open or waiting for its retry)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        out = {}
        for name, rec in raw.items() if isinstance(raw, dict) else ():
            try:
                out[name] = EngineState(
                    name, float(rec["failed_at"]), float(rec["retry_at"]), str(rec["reason"])
                )
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def is_open(self, engine: str) -> bool:
        """True if the engine failed recently and its retry time has not come."""
        state = self.states().get(engine)
        return state is not None and state.is_open()

    def trip(self, engine: str, reason: str) -> None:
        """Record a failure: skip the engine for retry_after_s (keeps the first failure time)."""
        now = time.time()
        with _lock:
            states = self.states()
            first = states[engine].failed_at if engine in states else now
            states[engine] = EngineState(engine, first, now + self.retry_after_s, reason[:300])
            self._write(states)
        log.warning("speech engine %s is skipped until a retry in %.0f s: %s",
                    engine, self.retry_after_s, reason)

    def reset(self, engine: str) -> None:
        """The engine spoke: forget its failure."""
        with _lock:
            states = self.states()
            if states.pop(engine, None) is not None:
                self._write(states)
                log.info("speech engine %s answers again", engine)

    def _write(self, states: dict[str, EngineState]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            s.engine: {"failed_at": s.failed_at, "retry_at": s.retry_at, "reason": s.reason}
            for s in states.values()
        }
        fd, tmp = tempfile.mkstemp(prefix=".engine-state-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            json.dump(payload, fp)
        os.replace(tmp, self.path)
