"""Controller settings: defaults, then `DATA/config.toml`, then COMMUNE_RADIO_* environment.

Every key is validated at start; an error names the key and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

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
    dialect: str = "south"
    command_ttl_s: int = 900
    """How long a 'send now' command stays valid on the wire and on the agent."""
    resend_after_s: int = 20
    """A delivery with no ack from the agent after this long is published again."""
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
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        # The data folder is made absolute once, here, whoever builds the settings: a relative
        # one (the demo's ./instance) was resolved differently downstream. Flask's send_file
        # resolves a relative path against the app's root_path (web/), not the working
        # directory, so every media download of `make run` was a 500 and no speaker played.
        object.__setattr__(self, "data_dir", Path(self.data_dir).resolve())

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
_BOOL_KEYS = {"run_scheduler", "cookie_secure"}


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
    for key in ("broker_port", "web_port"):
        if not 0 < getattr(s, key) < 65536:
            raise ConfigError(f"setting '{key}' must be a TCP port")
    if not 0 <= s.trusted_proxies <= 5:
        raise ConfigError("setting 'trusted_proxies' must be a number of proxies from 0 to 5")
    for key in ("max_text_chars", "command_ttl_s", "resend_after_s", "validity_s", "stale_after_s"):
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
    for f in names - {"data_dir", "extra"}:
        env = os.environ.get(f"COMMUNE_RADIO_{f.upper()}")
        if env is not None:
            values[f] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown setting '{sorted(unknown)[0]}' in {cfg_file}")
    coerced = {k: _coerce(k, v) for k, v in values.items()}
    return validate(replace(Settings(data_dir=data), **coerced))
