"""play_stream and session stop: round trips, strict decoding, signatures, airtime ranks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from protocol.errors import ProtocolError
from protocol.messages import Ack, Command, Stream, airtime_rank, decode_command

NOW = datetime.now(UTC).replace(microsecond=0)
TOKEN = "t" * 32


def stream_cmd(**kw) -> Command:
    base = dict(id="s1-ap-1", type="play_stream", speaker_id="ap-1", issued_at=NOW,
                expires_at=NOW + timedelta(minutes=31), play_at=NOW, priority="normal",
                stream=Stream(session_id="relay-7", url="http://127.0.0.1:8000/relay-7",
                              token=TOKEN, kind="relay", until=NOW + timedelta(minutes=30)),
                label="Tiếp sóng VOV1")
    base.update(kw)
    return Command(**base)


def test_play_stream_round_trips():
    cmd = stream_cmd()
    assert decode_command(cmd.encode()) == cmd
    stop = Command(id="x1", type="stop", speaker_id="ap-1", issued_at=NOW,
                   expires_at=NOW + timedelta(minutes=1), priority="emergency", session_id="relay-7")
    assert decode_command(stop.encode()).session_id == "relay-7"


def _raw(**stream_changes):
    obj = stream_cmd().to_payload()
    for k, v in stream_changes.items():
        if v is ...:
            obj["stream"].pop(k)
        else:
            obj["stream"][k] = v
    return json.dumps(obj).encode()


@pytest.mark.parametrize("raw, words", [
    (_raw(url="rtmp://127.0.0.1/x"), "http(s) URL"),
    (_raw(token="short"), "16-200"),
    (_raw(kind="podcast"), "kind"),
    (_raw(until=...), "until"),
    (_raw(session_id="bad id"), "session id"),
    (_raw(extra=1), "stream.extra"),
    (_raw(until=(NOW - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")), "not after 'play_at'"),
])
def test_malformed_stream_commands_name_the_problem(raw, words):
    with pytest.raises(ProtocolError) as err:
        decode_command(raw)
    assert words in str(err.value)
    assert err.value.command_id == "s1-ap-1"


def test_play_stream_needs_a_stream_and_a_start():
    obj = stream_cmd().to_payload()
    del obj["stream"]
    with pytest.raises(ProtocolError, match="missing field 'stream'"):
        decode_command(json.dumps(obj).encode())


def test_stream_acks_decode():
    for event in ("stream_playing", "stream_stalled", "stream_stopped"):
        ack = Ack(command_id="s1-ap-1", speaker_id="ap-1", event=event, at=NOW, detail="ended")
        assert Ack.decode(ack.encode()) == ack


def test_airtime_order_emergency_live_priority_relay_normal():
    order = [airtime_rank("emergency", "relay"), airtime_rank("normal", "live"),
             airtime_rank("priority"), airtime_rank("normal", "relay"), airtime_rank("normal")]
    assert order == sorted(order, reverse=True) and len(set(order)) == 5


def test_signature_covers_the_stream():
    from dataclasses import replace

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol import signing

    key = Ed25519PrivateKey.generate()
    keys = {signing.key_id(key.public_key()): key.public_key()}
    signed = signing.sign(stream_cmd(), key)
    signing.verify(decode_command(signed.encode()), keys)
    forged = replace(signed, stream=replace(signed.stream, url="http://127.0.0.1:9/evil"))
    with pytest.raises(ProtocolError):
        signing.verify(forged, keys)
