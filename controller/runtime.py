"""The running controller: database, keys, audio store, broker, MQTT bus, dispatcher, ingestor.

One `Controller` per process. The web app and the CLI reach services through it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from controller import broker_files, keys
from controller.audio_store import AudioStore
from controller.config import Settings
from controller.db import Database
from controller.managed_broker import ManagedBroker, next_free_port, port_is_free
from controller.migrate import upgrade
from protocol.topics import Topics

log = logging.getLogger(__name__)



class AlreadyRunning(RuntimeError):
    """Another controller holds this data directory."""

class Controller:
    """Holds every long-lived part; `start()` brings up messaging, `stop()` takes it down."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.data = Path(settings.data_dir)
        self.data.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_url)
        upgrade(self.db)
        self.keys = keys.KeyRing(self.data / "keys")
        self.store = AudioStore(self.data / "audio", keys.random_secret(self.data / "keys" / "media.key"))
        self.cache_dir = self.data / "tts-cache"
        self.topics = Topics(settings.topic_prefix)
        self.web_port = settings.web_port
        self.broker: ManagedBroker | None = None
        self.bus = None
        self.dispatcher = None
        self.ingestor = None
        self.scheduler = None
        self.province = None
        """controller.province.link.ProvinceLink when [province] enabled, else None."""
        from controller.province.link import configure as _configure_province

        _configure_province(self)
        from controller.backup_runner import BackupRunner

        self.backups = BackupRunner(settings)
        self.clock_problem: str | None = None
        """Set while the machine's clock is behind what was recorded (schedules wait)."""
        self.stopping = threading.Event()
        from controller.metrics import Metrics

        self.metrics = Metrics(self)
        self.live = None
        """LiveIngest (controller/services/live.py): browser chunks → encoder; its watchdog."""
        self.relays = None
        """The relay supervisor: one ffmpeg per running relay (controller/relay_supervisor.py)."""
        from controller.streams_server import StreamServer

        self.streams_server = StreamServer(settings, self.data / "icecast", self.local_web_base())
        """Icecast: where sessions are pushed and pulled; started by `start()` when managed."""
        self.alert_runner = None
        self.renders = None
        """controller.render_pool.RenderPool once started; None: speech renders in the caller."""

    # -- identity & addresses --
    @property
    def media_base(self) -> str:
        """Base URL agents fetch audio from."""
        return self.settings.media_base(self.web_port)

    def local_web_base(self) -> str:
        """The controller's web address as seen from this machine (Icecast calls it)."""
        host = self.settings.web_host
        if host in ("0.0.0.0", "", "::"):  # noqa: S104 - bind-all is not an address to call
            host = "127.0.0.1"
        return f"http://{host}:{self.web_port}"

    def flask_secret(self) -> bytes:
        """The web session key (created on first start, 0600)."""
        return keys.random_secret(self.data / "keys" / "flask.key")

    def controller_broker_password(self) -> str:
        """The controller's own broker password for the managed broker."""
        path = self.data / "keys" / "broker-controller.secret"
        return keys.random_secret(path, 24).hex()

    def broker_port(self) -> int:
        """The managed broker's port, chosen once and remembered so agent configs stay valid."""
        path = self.data / "broker" / "port"
        if path.exists():
            return int(path.read_text().strip())
        port = self.settings.broker_port
        if not port_is_free(port, self.settings.broker_bind):
            port = next_free_port(port + 1, self.settings.broker_bind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(port))
        return port

    def broker_address(self):
        """Host, port and credentials the controller and agents use."""
        from controller.mqtt_bus import BrokerAddress

        if self.settings.broker_url:
            u = urlparse(self.settings.broker_url)
            return BrokerAddress(host=u.hostname or "127.0.0.1", port=u.port or 1883,
                                 username=unquote(u.username or broker_files.CONTROLLER_USER),
                                 password=unquote(u.password or ""), tls=u.scheme == "mqtts")
        return BrokerAddress(host="127.0.0.1", port=self.broker_port(),
                             username=broker_files.CONTROLLER_USER,
                             password=self.controller_broker_password())

    def controller_address(self):
        """Where the controller itself connects: the managed broker's controller listener."""
        addr = self.broker_address()
        if self.settings.broker_url or self.broker is None or not self.broker.controller_port:
            return addr
        return replace(addr, port=self.broker.controller_port)

    def broker_tls(self) -> broker_files.TlsSettings | None:
        """The managed broker's TLS listener from settings, or None."""
        s = self.settings
        if not s.broker_tls_port:
            return None
        return broker_files.TlsSettings(port=s.broker_tls_port, cafile=s.broker_cafile,
                                        certfile=s.broker_certfile, keyfile=s.broker_keyfile,
                                        bind=s.broker_bind)

    def _managed_broker(self) -> ManagedBroker:
        return ManagedBroker(self.data / "broker", self.broker_port(), self.settings.broker_bind,
                             tls=self.broker_tls())

    # -- broker auth files --
    def auth_files(self) -> tuple[dict[str, str], str]:
        """(accounts, acl) generated from the registry."""
        from controller.services import registry

        with self.db.session() as s:
            accounts, hamlets = registry.broker_accounts(s)
        accounts[broker_files.CONTROLLER_USER] = broker_files.hash_password(
            self.controller_broker_password())
        return accounts, broker_files.render_acl(self.topics, list(hamlets), hamlets)

    def sync_broker_auth(self) -> None:
        """Rewrite the managed broker's password file and ACL and make it reload them."""
        if self.settings.broker_url:
            return  # an external broker is configured by its operators (broker-config --out)
        accounts, acl = self.auth_files()
        broker = self.broker or self._managed_broker()
        broker.write_auth(accounts, acl)

    # -- lifecycle --
    def start(self, web_port: int | None = None) -> None:
        """Start the broker (if managed), the MQTT bus, the ingestor and the dispatcher."""
        from controller.dispatcher import Dispatcher
        from controller.ingest import Ingestor
        from controller.mqtt_bus import MqttBus

        self._hold_lock()
        if web_port:
            self.web_port = web_port
        if not self.settings.broker_url:
            self.broker = self._managed_broker()
            self.sync_broker_auth()
            port = self.broker.start()
            if port != self.broker_port():
                log.warning("remembered broker port was taken; now %d (rewrite agent configs)",
                            port)
                (self.data / "broker" / "port").write_text(str(port))
        self.streams_server.set_web_base(self.local_web_base())
        self.streams_server.start()
        self.ingestor = Ingestor(self)
        self.ingestor.start()
        self.bus = MqttBus(self.controller_address(), self.topics, self.ingestor.on_message)
        self.dispatcher = Dispatcher(self, self.bus)
        self.bus.start()
        self.dispatcher.start()
        self._start_renders()
        self._start_live()
        self._start_relays()
        if self.province is not None:
            self.province.start()
        if self.settings.run_scheduler:
            from controller import clock

            clock.start_when_sane(self, self._start_timers)
        from controller.alerts.runner import AlertRunner

        self.alert_runner = AlertRunner(self)
        self.alert_runner.start()

    def _start_timers(self) -> None:
        if self.stopping.is_set():
            return
        self._start_scheduler()
        self.backups.start()

    def _start_renders(self) -> None:
        from controller.render_pool import RenderPool
        from controller.services import rendering

        self.renders = RenderPool(warm_up=self.settings.render_warm_up)
        self.renders.start()
        rendering.resume(self)  # what the previous run left `rendering`

    def _start_live(self) -> None:
        from controller.services import live

        ended = live.end_leftovers(self)  # their browser or encoder fed the old process
        if ended:
            log.warning("ended %d live session(s) left open by the previous run", ended)
        live.watch(self).start()

    def _start_relays(self) -> None:
        from controller.relay_supervisor import RelaySupervisor

        s = self.settings
        self.relays = RelaySupervisor(self, self.streams_server.source_url,
                                      silence_s=s.relay_silence_s, recheck_s=s.relay_recheck_s)
        self.relays.start()

    def _start_scheduler(self) -> None:
        try:
            from schedules.service import ScheduleRunner
        except ImportError:
            return
        self.scheduler = ScheduleRunner(self)
        self.scheduler.start()

    def _hold_lock(self) -> None:
        """Refuse to run two controllers on one data directory (two schedulers, two brokers)."""
        import fcntl

        self._lock_file = open(self.data / "controller.lock", "w")  # noqa: SIM115 - held for life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise AlreadyRunning(f"another controller is already running with data directory "
                               f"{self.data}; stop it first") from None

    def kick(self) -> None:
        """Tell the dispatcher there is new work."""
        if self.dispatcher is not None:
            self.dispatcher.kick()

    def stop(self) -> None:
        """Stop everything started by `start()`."""
        self.stopping.set()
        for part in (self.province, self.alert_runner, self.backups, self.live, self.scheduler,
                     self.relays, self.renders, self.dispatcher, self.bus, self.ingestor, self.broker,
                     self.streams_server):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    log.exception("stopping %s failed", type(part).__name__)
        self.db.dispose()
        lock = getattr(self, "_lock_file", None)
        if lock is not None:
            lock.close()  # releases the flock
            self._lock_file = None
