"""The agent's settings: one TOML file plus environment overrides, validated at start.

`commune-radio speaker add` writes this file, so the key names are a contract with
the controller. Errors name the key (`broker.port: must be an integer`), and the
broker password never appears in a repr or a log line.

Environment overrides: `SPEAKER_AGENT_<KEY>` for top-level keys and
`SPEAKER_AGENT_<SECTION>__<KEY>` for keys in a section, e.g.
`SPEAKER_AGENT_BROKER__PASSWORD`. Lists are given as JSON (`["a", "b"]`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.errors import ProtocolError
from protocol.signing import load_public_key
from protocol.topics import check_speaker_id

ENV_PREFIX = "SPEAKER_AGENT_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """A setting that is missing or wrong; the message starts with the key."""


@dataclass(frozen=True)
class BrokerSettings:
    """How to reach the MQTT broker."""

    host: str = "127.0.0.1"  #: broker address
    port: int = 1883  #: broker TCP port
    username: str = ""  #: this speaker's broker account (normally its id)
    password: str = field(default="", repr=False)  #: secret; never logged
    topic_prefix: str = "commune-radio"  #: first topic level(s), shared with the controller
    keepalive: int = 10  #: seconds; the last will fires after about 1.5x this
    tls: bool = False  #: connect with TLS
    ca_file: str = ""  #: CA bundle for TLS; empty means the system store
    session_expiry_s: int = 7 * 24 * 3600  #: how long the broker keeps our queue while we are away


@dataclass(frozen=True)
class SecuritySettings:
    """Which controller keys to trust and how much clock skew to allow."""

    public_keys: tuple[str, ...] = ()  #: base64 raw Ed25519 keys; several during rotation
    max_clock_skew_s: int = 300  #: issued_at may be this far in our future
    max_horizon_s: int = 7 * 24 * 3600  #: refuse play_at further ahead than this


@dataclass(frozen=True)
class PlayerSettings:
    """Which player backend to use."""

    backend: str = "file"  #: "file" (decode to WAV, tests/demo) or "alsa" (the Pi)
    command: tuple[str, ...] = ("mpg123", "-q", "{file}")  #: alsa backend; {file} is the audio path
    sink_dir: str = "/tmp/sink"  # noqa: S108 - demo default; the controller writes a real path
    #: file backend: <sink_dir>/<command_id>.wav


STREAM_FORMATS = ("auto", "probe", "mp3", "ogg", "aac", "mpegts", "hls")


@dataclass(frozen=True)
class StreamSettings:
    """How relays and live sessions are pulled from Icecast."""

    retry_min_s: float = 1.0  #: first reconnect delay after a drop (doubles, jittered)
    retry_max_s: float = 15.0  #: cap of the reconnect delay
    stall_timeout_s: float = 5.0  #: no bytes for this long counts as a drop
    input_format: str = "auto"  #: ffmpeg demuxer; "auto": from Content-Type; "probe": ffmpeg guesses
    alsa_device: str = "default"  #: alsa backend: the ALSA output device for streams
    token_param: str = "token"  # noqa: S105 - a parameter name, not a secret
    #: query parameter that carries the listener token


@dataclass(frozen=True)
class VolumeSettings:
    """Loudness per priority, in percent."""

    level: int = 80  #: normal announcements (a volume command changes it)
    emergency: int = 100  #: emergency bulletins
    priority: int = 90  #: priority bulletins
    mixer_control: str = "PCM"  #: amixer simple control on the Pi
    mixer_card: str = ""  #: amixer -c value; empty means the default card


@dataclass(frozen=True)
class RelaySettings:
    """The amplifier's power relay on a GPIO pin."""

    enabled: bool = False  #: drive a relay at all
    pin: int = 17  #: BCM pin number
    active_high: bool = True  #: False for relay boards that switch on a low level
    warmup_s: float = 2.0  #: power the amplifier this long before playback
    idle_off_s: float = 30.0  #: power it off after this long without playback
    mock: bool = False  #: use gpiozero's MockFactory (tests, demo) and log pin changes


@dataclass(frozen=True)
class CacheSettings:
    """The content-addressed audio cache."""

    max_bytes: int = 200_000_000  #: LRU bound; queued audio is never evicted
    dir: str = ""  #: empty means <data_dir>/cache
    min_free_bytes: int = 0  #: refuse downloads that would leave less free disk than this


@dataclass(frozen=True)
class HttpSettings:
    """HTTPS to the controller: audio downloads, streams and updates."""

    ca_file: str = ""  #: CA bundle to verify the controller's certificate; empty means the system store


@dataclass(frozen=True)
class HealthSettings:
    """Heartbeat of the retained state."""

    heartbeat_s: float = 30  #: republish the state this often


@dataclass(frozen=True)
class UpdateSettings:
    """Over-the-air updates of the agent (see docs/agent-install.md)."""

    base_dir: str = "/opt/commune-radio"  #: holds venvs/<version>, current and previous
    confirm_within_s: float = 600.0  #: a new version must reach the broker this fast, or roll back
    max_starts: int = 5  #: starts of an unconfirmed new version before rolling back early
    system_site_packages: bool = True  #: new venvs see apt's Python packages (python3-lgpio)


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent needs, validated."""

    speaker_id: str
    data_dir: str
    log_level: str = "INFO"
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    player: PlayerSettings = field(default_factory=PlayerSettings)
    stream: StreamSettings = field(default_factory=StreamSettings)
    volume: VolumeSettings = field(default_factory=VolumeSettings)
    relay: RelaySettings = field(default_factory=RelaySettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    update: UpdateSettings = field(default_factory=UpdateSettings)

    @property
    def cache_dir(self) -> Path:
        """Where cached audio lives."""
        return Path(self.cache.dir) if self.cache.dir else Path(self.data_dir) / "cache"

    def public_keys(self) -> dict:
        """The trusted keys by key id, as `protocol.signing.verify` wants them."""
        from protocol.signing import key_id

        keys = [load_public_key(text) for text in self.security.public_keys]
        return {key_id(k): k for k in keys}

    def redacted(self) -> dict:
        """The settings as a dict with secrets masked, safe to log."""
        out = dataclasses.asdict(self)
        if out["broker"]["password"]:
            out["broker"]["password"] = "********"  # noqa: S105 - the mask, not a secret
        return out


SECTIONS = {
    "broker": BrokerSettings,
    "security": SecuritySettings,
    "player": PlayerSettings,
    "stream": StreamSettings,
    "volume": VolumeSettings,
    "relay": RelaySettings,
    "cache": CacheSettings,
    "http": HttpSettings,
    "health": HealthSettings,
    "update": UpdateSettings,
}


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """Check `value` against the field type `kind` (a string annotation); ConfigError names the key."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: must be true or false")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: must be an integer")
    if kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}: must be a number")
    if kind == "str":
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: must be a string")
    if kind == "tuple[str, ...]":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"{key}: must be a list of strings")
    raise ConfigError(f"{key}: unsupported type {kind}")  # a bug in this module, not in the file


def _env_value(key: str, text: str, kind: str) -> Any:
    """Turn an environment string into the type a field wants."""
    if kind == "bool":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: environment value must be true or false")
    if kind in ("int", "float"):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            raise ConfigError(f"{key}: environment value must be a number") from None
    if kind == "tuple[str, ...]":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(f"{key}: environment value must be a JSON list") from None
    return text


def _apply_env(raw: dict, env: dict[str, str]) -> None:
    """Overlay SPEAKER_AGENT_* variables onto the parsed file."""
    top = {f.name: f.type for f in dataclasses.fields(AgentConfig) if f.name not in SECTIONS}
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        if "__" in rest:
            section, key = rest.split("__", 1)
            cls = SECTIONS.get(section)
            kinds = {f.name: f.type for f in dataclasses.fields(cls)} if cls else {}
            if key not in kinds:
                raise ConfigError(f"{section}.{key}: unknown setting (from environment {name})")
            raw.setdefault(section, {})[key] = _env_value(f"{section}.{key}", text, kinds[key])
        elif rest in top:
            raw[rest] = _env_value(rest, text, top[rest])
        else:
            raise ConfigError(f"{rest}: unknown setting (from environment {name})")


def _build(cls: type, values: dict, where: str) -> Any:
    """Build a settings dataclass, refusing unknown keys and wrong types."""
    kinds = {f.name: f.type for f in dataclasses.fields(cls) if f.name not in SECTIONS}
    for key in values:
        if key not in kinds:
            raise ConfigError(f"{where}{key}: unknown setting")
    return {k: _coerce(f"{where}{k}", v, kinds[k]) for k, v in values.items()}


def _check(cfg: AgentConfig) -> None:
    """Cross-field rules a type check cannot express."""
    if cfg.http.ca_file and not Path(cfg.http.ca_file).is_file():
        raise ConfigError(f"http.ca_file: no such file {cfg.http.ca_file!r}")
    try:
        check_speaker_id(cfg.speaker_id)
    except ProtocolError as exc:
        raise ConfigError(f"speaker_id: {exc}") from None
    if not cfg.data_dir:
        raise ConfigError("data_dir: must not be empty")
    if cfg.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level: must be one of {', '.join(LOG_LEVELS)}")
    b = cfg.broker
    if not 1 <= b.port <= 65535:
        raise ConfigError("broker.port: must be between 1 and 65535")
    for name in ("username", "password"):
        if not getattr(b, name):
            raise ConfigError(f"broker.{name}: must be set (the broker refuses anonymous clients)")
    if b.keepalive < 1:
        raise ConfigError("broker.keepalive: must be at least 1 second")
    if not cfg.security.public_keys:
        raise ConfigError("security.public_keys: at least one controller public key is required")
    for i, text in enumerate(cfg.security.public_keys):
        try:
            load_public_key(text)
        except ValueError as exc:
            raise ConfigError(f"security.public_keys[{i}]: {exc}") from None
    if cfg.player.backend not in ("file", "alsa"):
        raise ConfigError("player.backend: must be \"file\" or \"alsa\"")
    if cfg.player.backend == "alsa" and "{file}" not in cfg.player.command:
        raise ConfigError("player.command: must contain a \"{file}\" argument")
    if cfg.player.backend == "file" and not cfg.player.sink_dir:
        raise ConfigError("player.sink_dir: must be set for the file backend")
    _check_stream(cfg.stream)
    for name in ("level", "emergency", "priority"):
        if not 0 <= getattr(cfg.volume, name) <= 100:
            raise ConfigError(f"volume.{name}: must be between 0 and 100")
    if cfg.relay.warmup_s < 0 or cfg.relay.idle_off_s < 0:
        raise ConfigError("relay.warmup_s/relay.idle_off_s: must not be negative")
    if cfg.cache.max_bytes <= 0:
        raise ConfigError("cache.max_bytes: must be positive")
    if cfg.health.heartbeat_s <= 0:
        raise ConfigError("health.heartbeat_s: must be positive")
    if cfg.update.confirm_within_s <= 0 or cfg.update.max_starts < 1:
        raise ConfigError("update.confirm_within_s/update.max_starts: must be positive")
    if not cfg.update.base_dir:
        raise ConfigError("update.base_dir: must not be empty")


def _check_stream(s: StreamSettings) -> None:
    """Rules for the [stream] section."""
    if s.retry_min_s <= 0:
        raise ConfigError("stream.retry_min_s: must be positive")
    if s.retry_max_s < s.retry_min_s:
        raise ConfigError("stream.retry_max_s: must not be below stream.retry_min_s")
    if s.stall_timeout_s <= 0:
        raise ConfigError("stream.stall_timeout_s: must be positive")
    if s.input_format not in STREAM_FORMATS:
        raise ConfigError(f"stream.input_format: must be one of {', '.join(STREAM_FORMATS)}")
    if not s.alsa_device:
        raise ConfigError("stream.alsa_device: must not be empty")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", s.token_param):
        raise ConfigError("stream.token_param: must be 1-40 letters, digits, _ or -")


def parse(raw: dict, env: dict[str, str] | None = None) -> AgentConfig:
    """Validate a decoded TOML document (plus environment overrides) into an AgentConfig."""
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    _apply_env(raw, os.environ if env is None else env)
    for required in ("speaker_id", "data_dir"):
        if required not in raw:
            raise ConfigError(f"{required}: missing")
    sections = {}
    for name, cls in SECTIONS.items():
        values = raw.pop(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: must be a [{name}] table")
        sections[name] = cls(**_build(cls, values, f"{name}."))
    top = _build(AgentConfig, raw, "")
    cfg = AgentConfig(**top, **sections)
    cfg = dataclasses.replace(cfg, log_level=cfg.log_level.upper())
    _check(cfg)
    return cfg


def load(path: str | Path, env: dict[str, str] | None = None) -> AgentConfig:
    """Read and validate the TOML file at `path`."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return parse(raw, env)
