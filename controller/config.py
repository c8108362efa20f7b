"""Controller settings: defaults, then `DATA/config.toml`, then COMMUNE_RADIO_* environment.

Every key is validated at start; an error names the key and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlparse

ENV_DATA = "COMMUNE_RADIO_DATA"


class ConfigError(ValueError):
    """A setting that is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class Settings:
    """Everything the controller can be told. All state lives under `data_dir`."""

    data_dir: Path = Path("instance")
    database_url: str = ""
    """SQLAlchemy URL; empty means SQLite `controller.db` in the data directory."""
    broker_url: str = ""
    """mqtt://user:password@host:port of an external broker; empty runs a managed Mosquitto."""
    broker_port: int = 1883
    """Port the managed broker prefers; the next free one is used if it is taken."""
    broker_bind: str = "127.0.0.1"
    """Address the managed broker listens on (0.0.0.0 to reach real hamlets)."""
    agent_broker_host: str = "127.0.0.1"
    """Broker host written into agent config files."""
    topic_prefix: str = "commune-radio"
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str = ""
    """Base URL agents use to fetch audio; empty means http://web_host:web_port."""
    timezone: str = "Asia/Ho_Chi_Minh"
    max_text_chars: int = 5000
    tts_engines: tuple[str, ...] = ("gtts", "espeak")
    tts_retry_after_s: int = 300
    """After a speech engine fails, renders skip it for this long, then try it again."""
    emergency_speech_budget_ms: int = 1000
    """An emergency waits at most this long for the online voice; the offline voice speaks otherwise."""
    render_warm_up: bool = True
    """Start the emergency speech worker, and make one tiny render in it, when the controller
    starts (about 2 s of CPU and 60 MB); false: on the first emergency, which then waits for
    it. The test suite sets it false: its hundreds of short-lived controllers paid minutes."""
    dialect: str = "south"
    command_ttl_s: int = 900
    """How long a 'send now' command stays valid on the wire and on the agent."""
    resend_after_s: int = 20
    """A delivery with no ack from the agent after this long is published again."""
    group_commands: bool = True
    """Send a broadcast to many speakers as one group command per hamlet (the broker fans it
    out); false: one command per speaker, e.g. until an external broker has the group ACL."""
    lead_time_s: int = 600
    validity_s: int = 900
    media_url_ttl_s: int = 86400
    stale_after_s: int = 120
    """A speaker whose last state is older than this is flagged stale."""
    clock_limit_ms: int = 2000
    """A speaker whose clock is off by more than this is flagged."""
    run_scheduler: bool = True
    cookie_secure: bool = False
    """Mark cookies Secure even on plain HTTP (the site is behind an HTTPS proxy)."""
    trusted_proxies: int = 0
    """Reverse proxies in front of the web server whose X-Forwarded-For/-Proto are believed
    (0: none; the headers are then dropped, so a client cannot pick its own address)."""
    broker_tls_port: int = 0
    """Managed broker: also listen with TLS on this port (0: no TLS listener)."""
    broker_cafile: str = ""
    broker_certfile: str = ""
    broker_keyfile: str = ""
    """PEM files for the TLS listener: CA, server certificate, server key."""
    backup_dir: str = ""
    """Where daily backups go; empty means `backups/` in the data directory (better: another disk)."""
    backup_keep: int = 7
    """How many daily backups are kept; older ones are deleted after a successful backup."""
    backup_hour: int = 3
    """Local hour (0-23) of the daily backup; -1 turns daily backups off."""
    metrics_token: str = ""
    """Bearer token Prometheus sends to /metrics; empty allows scrapes from loopback only."""
    stream_url: str = ""
    """http://host:port of an external Icecast; empty runs a managed Icecast."""
    stream_source_user: str = "source"
    stream_source_password: str = ""
    """Source credentials of the external Icecast (`stream_url`)."""
    stream_port: int = 8000
    """Port the managed Icecast prefers; the next free one is used if it is taken."""
    stream_bind: str = "127.0.0.1"
    """Address the managed Icecast listens on (0.0.0.0 to reach real hamlets)."""
    stream_public_url: str = ""
    """Base URL speakers pull streams from; empty means the Icecast's own address."""
    live_idle_s: int = 4
    """A browser live session ends when no chunk came for this long (tab closed, network lost)."""
    live_source_grace_s: int = 10
    """An external encoder may be disconnected this long before its live session ends."""
    live_start_window_s: int = 120
    """How long a new live session waits for its first chunk or encoder before it ends."""
    alerts: dict = field(default_factory=dict)
    """The [alerts] table: CAP feeds, the policy table and repeats (controller/alerts/settings.py)."""
    relay_silence_s: int = 15
    """An upstream silent this long is a gap (and switches to the backup source, if any)."""
    relay_recheck_s: int = 60
    """While relaying a backup source, listen to the main one this often to switch back."""
    relay_loopback_only: bool = False
    """Accept only loopback source URLs (tests and demos: no traffic leaves the machine)."""
    province: dict = field(default_factory=dict)
    """The [province] table: the link to the provincial source system (controller/province/settings.py)."""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        # The data folder is made absolute once, here, whoever builds the settings: a relative
        # one (the demo's ./instance) was resolved differently downstream. Flask's send_file
        # resolves a relative path against the app's root_path (web/), not the working
        # directory, so every media download of `make run` was a 500 and no speaker played.
        object.__setattr__(self, "data_dir", Path(self.data_dir).resolve())

    @property
    def backups_path(self) -> Path:
        """The folder daily backups are written to."""
        return Path(self.backup_dir).resolve() if self.backup_dir else self.data_dir / "backups"

    @property
    def db_url(self) -> str:
        """The effective database URL."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'controller.db').resolve()}"

    def media_base(self, web_port: int | None = None) -> str:
        """Base URL for media links."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.web_host}:{web_port or self.web_port}"


_INT_KEYS = {f.name for f in fields(Settings) if f.type in ("int", int)}
_BOOL_KEYS = {"run_scheduler", "cookie_secure", "relay_loopback_only", "group_commands",
              "render_warm_up"}


def _coerce(key: str, value):
    if key in _INT_KEYS:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"setting '{key}' must be a whole number, got {value!r}") from None
    if key in _BOOL_KEYS:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"setting '{key}' must be true or false, got {value!r}")
    if key == "tts_engines":
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(s.strip() for s in items if s.strip())
    if key == "data_dir":
        return Path(value)
    return value


def validate(s: Settings) -> Settings:
    """Check every key; raise ConfigError naming the first bad one."""
    try:
        zoneinfo.ZoneInfo(s.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"setting 'timezone': unknown timezone {s.timezone!r}") from None
    if s.dialect not in ("south", "north"):
        raise ConfigError("setting 'dialect' must be 'south' or 'north'")
    bad = [e for e in s.tts_engines if e not in ("gtts", "espeak", "piper")]
    if bad or not s.tts_engines:
        raise ConfigError(f"setting 'tts_engines': unknown engine {bad[:1] or 'none given'}")
    for key in ("broker_port", "web_port", "stream_port"):
        if not 0 < getattr(s, key) < 65536:
            raise ConfigError(f"setting '{key}' must be a TCP port")
    if not -1 <= s.backup_hour <= 23:
        raise ConfigError("setting 'backup_hour' must be an hour 0-23, or -1 for no daily backup")
    if not 0 <= s.trusted_proxies <= 5:
        raise ConfigError("setting 'trusted_proxies' must be a number of proxies from 0 to 5")
    for key in ("max_text_chars", "backup_keep", "live_idle_s", "live_source_grace_s",
                "live_start_window_s", "command_ttl_s", "resend_after_s", "validity_s", "stale_after_s",
                "relay_silence_s", "relay_recheck_s"):
        if getattr(s, key) <= 0:
            raise ConfigError(f"setting '{key}' must be positive")
    if s.broker_tls_port:
        if not 0 < s.broker_tls_port < 65536:
            raise ConfigError("setting 'broker_tls_port' must be a TCP port")
        for key in ("broker_cafile", "broker_certfile", "broker_keyfile"):
            if not getattr(s, key) or not Path(getattr(s, key)).is_file():
                raise ConfigError(f"setting '{key}' must name a PEM file (TLS listener is on)")
    if s.broker_url and not s.broker_url.startswith(("mqtt://", "mqtts://")):
        raise ConfigError("setting 'broker_url' must start with mqtt:// or mqtts://")
    for key in ("stream_url", "stream_public_url"):
        value = getattr(s, key)
        if value and (not value.startswith(("http://", "https://")) or not urlparse(value).hostname):
            raise ConfigError(f"setting '{key}' must be an http:// or https:// URL with a host")
    if s.stream_url and not s.stream_source_password:
        raise ConfigError("setting 'stream_source_password' is needed with 'stream_url'")
    from controller.alerts.settings import alert_settings
    from controller.province.settings import province_settings

    try:
        alert_settings(s.alerts)
    except ValueError as exc:
        raise ConfigError(f"setting {exc}") from None
    try:
        province_settings(s.province)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {exc}") from None
    return s


def load(data_dir: str | Path | None = None, **overrides) -> Settings:
    """Build settings for a data directory: defaults, config.toml, environment, then overrides."""
    data = Path(data_dir or os.environ.get(ENV_DATA) or "instance").resolve()
    values: dict = {}
    cfg_file = data / "config.toml"
    if cfg_file.exists():
        try:
            values.update(tomllib.loads(cfg_file.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg_file}: {exc}") from None
    names = {f.name for f in fields(Settings)}
    for f in names - {"data_dir", "extra", "alerts"}:
        env = os.environ.get(f"COMMUNE_RADIO_{f.upper()}")
        if env is not None and f != "province":  # a table, set in config.toml only
            values[f] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown setting '{sorted(unknown)[0]}' in {cfg_file}")
    coerced = {k: _coerce(k, v) for k, v in values.items()}
    return validate(replace(Settings(data_dir=data), **coerced))
