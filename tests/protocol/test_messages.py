"""The wire format: round trips, and strict refusal of anything malformed, naming the problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from protocol import ProtocolError, Topics
from protocol.messages import (
    Ack,
    Command,
    ControllerState,
    Media,
    SpeakerState,
    decode_command,
    format_time,
    parse_time,
    peek_command_id,
)

NOW = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
MEDIA = Media(url="http://127.0.0.1:8080/media/" + "a" * 64 + ".mp3", sha256="a" * 64, bytes=1234,
              duration_ms=5000)


def play(**kw) -> Command:
    base = dict(id="c1", type="play", speaker_id="ap-1", issued_at=NOW,
                expires_at=NOW + timedelta(minutes=15), play_at=NOW + timedelta(minutes=10),
                media=MEDIA, priority="emergency", label="Bão số 9")
    base.update(kw)
    return Command(**base)


def payload(**changes) -> bytes:
    obj = play().to_payload()
    for k, v in changes.items():
        if v is ...:
            obj.pop(k, None)
        else:
            obj[k] = v
    return json.dumps(obj).encode()


def test_command_round_trips_through_the_wire():
    cmd = play()
    assert decode_command(cmd.encode()) == cmd


def test_times_are_utc_with_milliseconds_and_z():
    assert format_time(NOW) == "2026-12-01T23:00:00.000Z"
    assert parse_time("2026-12-01T23:00:00.000Z") == NOW
    with pytest.raises(ValueError):
        format_time(datetime(2026, 12, 1))  # naive times never reach the wire


@pytest.mark.parametrize("raw,words", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe", "not UTF-8"),
    (b"{" * 70000, "over"),
    (payload(type="explode"), "field 'type' is 'explode'"),
    (payload(media=...), "missing field 'media'"),
    (payload(play_at=...), "missing field 'play_at'"),
    (payload(speaker_id=...), "missing field 'speaker_id'"),
    (payload(speaker_id=5), "field 'speaker_id' must be str"),
    (payload(v=2), "unsupported schema version"),
    (payload(priority="urgent"), "field 'priority'"),
    (payload(play_at="tomorrow"), "field 'play_at'"),
    (payload(play_at="2026-12-01T23:00:00"), "ending in Z"),
    (payload(expires_at="2026-11-01T00:00:00.000Z"), "not after 'issued_at'"),
    (payload(media={"url": "file:///etc/passwd", "sha256": "a" * 64, "bytes": 1,
                    "duration_ms": 1}), "http(s) URL"),
    (payload(media={"url": "http://x/a.mp3", "sha256": "zz", "bytes": 1, "duration_ms": 1}),
     "64 lowercase hex"),
    (payload(volume=True), "wrong type"),
    (payload(extra_field=1), "unknown field 'extra_field'"),
    (payload(speaker_id="../../etc"), "invalid speaker id"),
])
def test_malformed_commands_raise_protocol_error_naming_the_problem(raw, words):
    with pytest.raises(ProtocolError) as exc:
        decode_command(raw)
    assert words in str(exc.value)


def test_the_command_id_travels_with_the_error_when_it_was_readable():
    with pytest.raises(ProtocolError) as exc:
        decode_command(payload(type="explode"))
    assert exc.value.command_id == "c1"
    assert peek_command_id(payload(type="explode")) == "c1"
    assert peek_command_id(b"garbage") is None
    with pytest.raises(ProtocolError) as exc:
        decode_command(payload(id="bad id with spaces"))
    assert exc.value.command_id is None


def test_volume_command_needs_a_level_in_range():
    vol = Command(id="v1", type="volume", speaker_id="ap-1", issued_at=NOW,
                  expires_at=NOW + timedelta(minutes=1), volume=70)
    assert decode_command(vol.encode()).volume == 70
    obj = vol.to_payload() | {"volume": 150}
    with pytest.raises(ProtocolError, match="between 0 and 100"):
        decode_command(json.dumps(obj))


def test_ack_state_and_controller_state_round_trip():
    ack = Ack(command_id="c1", speaker_id="ap-1", event="played", at=NOW, detail="ok")
    assert Ack.decode(ack.encode()) == ack
    st = SpeakerState("ap-1", True, NOW, version="0.1.0", queue_len=2, volume=80,
                      cpu_temp_c=51.5, clock_offset_ms=-12.0, last_error="disk full")
    assert SpeakerState.decode(st.encode()) == st
    cs = ControllerState(True, NOW)
    assert ControllerState.decode(cs.encode()) == cs


@pytest.mark.parametrize("raw,words", [
    (b'{"v":1,"command_id":"c1","speaker_id":"ap-1","event":"exploded","at":"2026-12-01T23:00:00.000Z"}',
     "field 'event'"),
    (b'{"v":1,"command_id":"c1","speaker_id":"ap-1","event":"played"}', "missing field 'at'"),
])
def test_malformed_acks_are_refused(raw, words):
    with pytest.raises(ProtocolError, match=words):
        Ack.decode(raw)


def test_topics_build_and_parse():
    t = Topics("xa-my-hoa-hung/radio")
    assert t.cmd("ap-1") == "xa-my-hoa-hung/radio/speakers/ap-1/cmd"
    assert t.parse("xa-my-hoa-hung/radio/speakers/ap-1/ack") == ("ap-1", "ack")
    for bad in ("xa-my-hoa-hung/radio/speakers/ap-1", "other/speakers/ap-1/ack",
                "xa-my-hoa-hung/radio/speakers/AP 1/ack", "xa-my-hoa-hung/radio/speakers/+/cmd"):
        with pytest.raises(ProtocolError):
            t.parse(bad)
    with pytest.raises(ProtocolError):
        t.cmd("#")
