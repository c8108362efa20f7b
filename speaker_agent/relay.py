"""The amplifier's power relay on a GPIO pin (gpiozero): on a warm-up before playback, off when idle.

The only module that touches GPIO. With `mock = true` it uses gpiozero's
MockFactory and appends every pin change to a JSON-lines history file, so
process tests (and the demo) can see what the relay did.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from speaker_agent.config import RelaySettings


class Relay:
    """Switches the amplifier; `None` state when no relay is configured."""

    def __init__(self, settings: RelaySettings, history_path: Path | None = None):
        self.settings = settings
        self.history_path = history_path
        self._lock = threading.Lock()
        self._device = None
        self.on_at: float | None = None
        self.idle_since: float | None = time.time()
        if settings.enabled:
            self._device = self._open()
            self._record()

    def _open(self):
        from gpiozero import OutputDevice

        factory = None
        if self.settings.mock:
            from gpiozero.pins.mock import MockFactory

            factory = MockFactory()
        return OutputDevice(self.settings.pin, active_high=self.settings.active_high,
                            initial_value=False, pin_factory=factory)

    def _record(self) -> None:
        """Append the pin's level to the history file (mock only: real pins are their own record)."""
        if self.history_path is None or not self.settings.mock:
            return
        line = {"at": time.time(), "pin_high": bool(self._device.pin.state),
                "on": bool(self._device.value)}
        with open(self.history_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    @property
    def enabled(self) -> bool:
        """True when a relay is configured."""
        return self._device is not None

    @property
    def is_on(self) -> bool | None:
        """Whether the amplifier is powered; None without a relay."""
        if self._device is None:
            return None
        return bool(self._device.value)

    def ready_at(self) -> float:
        """When the amplifier will be warm if switched on now (or already is)."""
        if self._device is None:
            return 0.0
        with self._lock:
            if self.on_at is None:
                return time.time() + self.settings.warmup_s
            return self.on_at + self.settings.warmup_s

    def power_on(self) -> None:
        """Switch the amplifier on (no-op if it is on)."""
        if self._device is None:
            return
        with self._lock:
            self.idle_since = None
            if self.on_at is None:
                self._device.on()
                self.on_at = time.time()
                self._record()

    def busy(self) -> None:
        """Playback is running: not idle."""
        with self._lock:
            self.idle_since = None

    def idle(self) -> None:
        """Playback ended: start the idle timer."""
        with self._lock:
            self.idle_since = time.time()

    def tick(self, next_start: float | None) -> None:
        """Switch off after the idle timeout, unless something is about to start."""
        if self._device is None:
            return
        now = time.time()
        with self._lock:
            if self.on_at is None or self.idle_since is None:
                return
            if now - self.idle_since < self.settings.idle_off_s:
                return
            if next_start is not None and next_start - now <= self.settings.warmup_s:
                return
            self._device.off()
            self.on_at = None
            self._record()

    def close(self) -> None:
        """Switch off and release the pin."""
        if self._device is None:
            return
        with self._lock:
            if self.on_at is not None:
                self._device.off()
                self.on_at = None
                self._record()
            self._device.close()
            self._device = None

    def check(self) -> str:
        """Plain words about the relay (opening the pin already proved GPIO works)."""
        if self._device is None:
            return "no relay configured"
        kind = "mock pin" if self.settings.mock else "GPIO pin"
        level = "active-high" if self.settings.active_high else "active-low"
        return f"relay on {kind} {self.settings.pin} ({level}) is usable"
