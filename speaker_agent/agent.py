"""Wires the agent together and runs its threads: MQTT link, fetch loop, play loop, heartbeat."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from protocol.messages import Command
from speaker_agent import health
from speaker_agent.cache import AudioCache
from speaker_agent.config import AgentConfig
from speaker_agent.groups import Groups
from speaker_agent.health import Health
from speaker_agent.intake import Intake
from speaker_agent.mqtt_link import MqttLink
from speaker_agent.playback import Playback
from speaker_agent.player import make_player
from speaker_agent.relay import Relay
from speaker_agent.store import Store
from speaker_agent.stream_player import make_stream_player
from speaker_agent.streams import StreamPlayback
from speaker_agent.updater import Updater
from speaker_agent.volume import make_mixer

log = logging.getLogger(__name__)
IDLE_MARGIN_S = 60  # a restart takes seconds: never start one just before a broadcast is due


class Agent:
    """One speaker agent: build with a config, then `run()` until `stop()`."""

    def __init__(self, cfg: AgentConfig):
        self.cfg = cfg
        data = Path(cfg.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.stopping = threading.Event()
        self.state_changed = threading.Event()
        self.store = Store(data / "agent.db")
        self.health = Health(cfg.speaker_id, data)
        self.health.on_change = self.state_changed.set
        self.relay = Relay(cfg.relay, data / "relay_history.jsonl")
        self.cache = AudioCache(cfg.cache_dir, cfg.cache.max_bytes, cfg.cache.min_free_bytes)
        self.groups = Groups(cfg.speaker_id, self.store, cfg.public_keys(), self.health,
                             on_change=lambda hamlet_id: self.link.follow_hamlet())
        self.link = MqttLink(cfg, self.store, self._on_command, self._state_payload,
                             on_group=lambda raw: self.intake.handle_group(raw),
                             on_membership=self.groups.handle,
                             hamlet_id=lambda: self.groups.hamlet_id,
                             on_listening=self.state_changed.set)
        self.intake = Intake(
            cfg.speaker_id, self.store, cfg.public_keys(), cfg.security.max_clock_skew_s,
            cfg.security.max_horizon_s, self.health, self._on_stored, self.link.pump,
            hamlet_id=lambda: self.groups.hamlet_id,
        )
        self.playback = Playback(
            cfg, self.store, self.cache, make_player(cfg.player), make_mixer(cfg.player.backend, cfg.volume),
            self.relay, self.health, self.intake.ack, self.link.pump, self.state_changed.set,
        )
        self.streams = StreamPlayback(
            cfg, self.store, make_stream_player(cfg.player, cfg.stream), self.relay, self.health,
            self.intake.ack, self.link.pump, self.state_changed.set,
        )
        self.playback.streams = self.streams
        self.streams.playback = self.playback
        self.exit_code = 0
        self.updater = Updater(cfg, self.store, self.health, self.intake.ack, self.link.pump,
                               self._is_idle, self._exit)
        self.updater.connected = self.link.connected.is_set

    def _on_command(self, raw: bytes) -> None:
        self.intake.handle(raw)

    def _on_stored(self, cmd: Command) -> str | None:
        """Run a freshly stored command; returns the detail for the final ack of stop/volume/ping."""
        if cmd.type == "play":
            self.playback.notify()
            return None
        if cmd.type == "play_stream":
            self.streams.notify()
            return None
        if cmd.type == "update":
            return self.updater.accept(cmd)
        if cmd.type == "stop" and cmd.session_id is not None:
            return self.streams.stop_session(cmd.session_id, cmd.id)
        if cmd.type == "stop":
            stream = self.streams.stop_on_air(cmd.id)
            return stream or self.playback.stop(cmd.id)
        if cmd.type == "volume":
            return self.playback.set_volume(cmd.volume)
        offset = self.health.clock_offset_ms()
        return f"clock_offset_ms={offset}" if offset is not None else None

    def _state(self, online: bool):
        current = self.playback.current
        return self.health.state(
            online,
            queue_len=self.store.queue_len(),
            playing=current.id if current else self.streams.playing_label(),
            volume=self.playback.base_volume,
            relay_on=self.relay.is_on,
            hamlet_id=self.link.listening,
        )

    def _state_payload(self, online: bool) -> bytes:
        return self._state(online).encode()

    def _heartbeat(self) -> None:
        """Publish the state every heartbeat_s, and soon after anything changes (thread body)."""
        while not self.stopping.is_set():
            try:
                self.link.publish_state()
                health.write_file(Path(self.cfg.data_dir), self.link.connected.is_set(),
                                  self._state(True))
            except Exception:
                log.exception("heartbeat failed")
            self.state_changed.wait(self.cfg.health.heartbeat_s)
            self.state_changed.clear()
            self.stopping.wait(0.2)  # coalesce bursts of changes into one message

    def run(self) -> None:
        """Start every loop and block until `stop()`."""
        log.info("speaker agent %s starting (version %s)", self.cfg.speaker_id, self.health.version)
        self.playback.recover()
        self.streams.recover()
        loops = {
            "mqtt": lambda: self.link.run(self.stopping),
            "fetch": lambda: self.playback.fetch_loop(self.stopping),
            "play": lambda: self.playback.play_loop(self.stopping),
            "streams": lambda: self.streams.loop(self.stopping),
            "heartbeat": self._heartbeat,
            "update": lambda: self.updater.loop(self.stopping),
        }
        threads = [threading.Thread(target=fn, name=name, daemon=True) for name, fn in loops.items()]
        for t in threads:
            t.start()
        # Wake up now and then: a process signal may be delivered to any thread, and CPython
        # runs the Python handler (which calls stop()) only when the main thread runs bytecode.
        # A bare wait() blocked forever whenever SIGINT/SIGTERM landed on a worker thread.
        while not self.stopping.wait(0.5):
            pass
        self.playback.wake_play.set()
        self.playback.wake_fetch.set()
        self.streams.wake.set()
        self.state_changed.set()
        for t in threads:
            t.join(timeout=5)
        self.link.close()
        self.relay.close()
        self.store.close()
        log.info("speaker agent %s stopped", self.cfg.speaker_id)

    def _is_idle(self) -> bool:
        """Nothing on the air nor due within a minute: an update may restart the agent now."""
        if self.playback.current is not None or self.streams.playing_label() is not None:
            return False
        soon = time.time() + IDLE_MARGIN_S
        return not any(i.command.play_at is not None and i.command.play_at.timestamp() < soon
                       for i in self.store.items(("received", "downloaded")))

    def _exit(self, code: int) -> None:
        """Stop the agent so that the process exits with `code` (systemd restarts it)."""
        self.exit_code = code
        self.stop()

    def stop(self) -> None:
        """Ask `run()` to return."""
        self.stopping.set()
