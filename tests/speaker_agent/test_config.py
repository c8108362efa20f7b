"""Config: the file `commune-radio speaker add` writes, env overrides, errors naming the key, no secrets."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import public_key_text
from speaker_agent.config import ConfigError, load, parse

KEY = public_key_text(Ed25519PrivateKey.generate().public_key())

EXAMPLE = f"""
speaker_id = "ap-1"
data_dir = "/var/lib/speaker-agent/ap-1"
log_level = "INFO"
[broker]
host = "127.0.0.1"
port = 1883
username = "ap-1"
password = "s3cret-pass"
topic_prefix = "commune-radio"
keepalive = 10
tls = false
ca_file = ""
[security]
public_keys = ["{KEY}"]
max_clock_skew_s = 300
[player]
backend = "file"
command = ["mpg123", "-q", "{{file}}"]
sink_dir = "/tmp/sink"
[volume]
level = 80
emergency = 100
priority = 90
mixer_control = "PCM"
[relay]
enabled = false
pin = 17
active_high = true
warmup_s = 2.0
idle_off_s = 30.0
mock = false
[cache]
max_bytes = 200000000
[health]
heartbeat_s = 30
"""


def write(tmp_path, text=EXAMPLE):
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_the_documented_example_loads(tmp_path):
    cfg = load(write(tmp_path), env={})
    assert cfg.speaker_id == "ap-1" and cfg.broker.port == 1883 and cfg.relay.warmup_s == 2.0
    assert cfg.player.command == ("mpg123", "-q", "{file}")
    assert len(cfg.public_keys()) == 1


def test_environment_overrides(tmp_path):
    cfg = load(write(tmp_path), env={"SPEAKER_AGENT_BROKER__PASSWORD": "from-env",
                                      "SPEAKER_AGENT_RELAY__ENABLED": "true",
                                      "SPEAKER_AGENT_LOG_LEVEL": "debug"})
    assert cfg.broker.password == "from-env" and cfg.relay.enabled and cfg.log_level == "DEBUG"


@pytest.mark.parametrize(("old", "new", "key"), [
    ("port = 1883", 'port = "1883"', "broker.port"),
    ("port = 1883", "port = 99999", "broker.port"),
    ('speaker_id = "ap-1"', 'speaker_id = "AP 1!"', "speaker_id"),
    (f'public_keys = ["{KEY}"]', 'public_keys = ["bm90IGEga2V5"]', "security.public_keys[0]"),
    (f'public_keys = ["{KEY}"]', "public_keys = []", "security.public_keys"),
    ('backend = "file"', 'backend = "pulse"', "player.backend"),
    ("level = 80", "level = 180", "volume.level"),
    ("warmup_s = 2.0", 'warmup_s = "soon"', "relay.warmup_s"),
    ("tls = false", "tls = false\ntlz = true", "broker.tlz"),
    ('password = "s3cret-pass"', 'password = ""', "broker.password"),
    ("[health]", '[http]\nca_file = "/nowhere/root.crt"\n[health]', "http.ca_file"),
])
def test_errors_name_the_key(tmp_path, old, new, key):
    assert old in EXAMPLE
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, EXAMPLE.replace(old, new)), env={})
    assert str(info.value).startswith(key)


def test_bad_env_value_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"^broker\.port"):
        load(write(tmp_path), env={"SPEAKER_AGENT_BROKER__PORT": "many"})
    with pytest.raises(ConfigError, match=r"^broker\.nope"):
        load(write(tmp_path), env={"SPEAKER_AGENT_BROKER__NOPE": "1"})


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(write(tmp_path, "speaker_id = "), env={})


def test_secret_never_in_repr_or_redacted_dump(tmp_path, caplog):
    cfg = load(write(tmp_path), env={})
    assert "s3cret-pass" not in repr(cfg)
    assert "s3cret-pass" not in str(cfg.redacted())
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("x").info("config %s %r", cfg.redacted(), cfg)
    assert "s3cret-pass" not in caplog.text


def test_defaults_for_optional_sections():
    cfg = parse({"speaker_id": "ap-9", "data_dir": "/d",
                 "broker": {"username": "ap-9", "password": "p"},
                 "security": {"public_keys": [KEY]}}, env={})
    assert cfg.cache_dir.as_posix() == "/d/cache" and cfg.security.max_horizon_s == 7 * 86400


def test_the_file_the_controller_writes_is_accepted():
    """Contract with `commune-radio speaker add` (controller/agent_config.py)."""
    agent_config = pytest.importorskip("controller.agent_config")
    import tomllib

    for backend in ("alsa", "file"):
        text = agent_config.render(speaker_id="ap-3", password="pw", host="127.0.0.1", port=1883,
                                   prefix="commune-radio", public_keys=[KEY], data_dir="/d",
                                   backend=backend, relay_mock=backend == "file")
        cfg = parse(tomllib.loads(text), env={})
        assert cfg.speaker_id == "ap-3" and cfg.player.backend == backend


@pytest.mark.parametrize(("stream", "key"), [
    ({"retry_min_s": 0}, "stream.retry_min_s"),
    ({"retry_min_s": 5.0, "retry_max_s": 2.0}, "stream.retry_max_s"),
    ({"stall_timeout_s": "long"}, "stream.stall_timeout_s"),
    ({"input_format": "wma"}, "stream.input_format"),
    ({"token_param": "a b"}, "stream.token_param"),
    ({"retries": 3}, "stream.retries"),
])
def test_stream_errors_name_the_key(stream, key):
    raw = {"speaker_id": "ap-9", "data_dir": "/d", "broker": {"username": "ap-9", "password": "p"},
           "security": {"public_keys": [KEY]}, "stream": stream}
    with pytest.raises(ConfigError) as info:
        parse(raw, env={})
    assert str(info.value).startswith(key)
