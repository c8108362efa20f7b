"""Ack batches: several steps of one speaker in one message, alongside the one-event ack."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from protocol.acks import MAX_ACKS_PER_MESSAGE, decode_acks, encode_acks
from protocol.errors import ProtocolError
from protocol.messages import Ack, utc_now

NOW = utc_now().replace(microsecond=123000)


def steps(*events, speaker="ap-1", cid="c1"):
    return [Ack(cid, speaker, e, NOW + timedelta(milliseconds=i)) for i, e in enumerate(events)]


def test_a_batch_round_trips_in_order_and_one_ack_keeps_the_original_shape():
    acks = steps("received", "downloaded", "playing")
    acks.append(Ack("c0", "ap-1", "failed", NOW, detail="tải về: hết chỗ"))
    raw = encode_acks(acks)
    assert json.loads(raw)["speaker_id"] == "ap-1" and len(json.loads(raw)["acks"]) == 4
    assert decode_acks(raw) == acks
    (one,) = steps("played")
    assert encode_acks([one]) == one.encode()  # what agents not yet updated send, too
    assert decode_acks(one.encode()) == [one]


def test_a_batch_holds_one_speaker_and_a_bounded_number_of_acks():
    with pytest.raises(ValueError):
        encode_acks(steps("received") + steps("received", speaker="ap-2"))
    with pytest.raises(ValueError):
        encode_acks(steps(*["received"] * (MAX_ACKS_PER_MESSAGE + 1)))


@pytest.mark.parametrize("change,words", [
    (lambda o: o["acks"][1].update(event="exploded"), "field 'acks\\[1\\].event'"),
    (lambda o: o["acks"][0].pop("at"), "missing field 'acks\\[0\\].at'"),
    (lambda o: o["acks"][0].update(command_id="../x"), "'acks\\[0\\].command_id' is not"),
    (lambda o: o["acks"][1].update(extra=1), "unknown field 'acks\\[1\\].extra'"),
    (lambda o: o.update(acks=[]), "field 'acks' must hold 1 to"),
    (lambda o: o.update(acks="x"), "field 'acks' must be list"),
    (lambda o: o.update(speaker_id="AP 1"), "speaker"),
    (lambda o: o.update(v=2), "schema version"),
])
def test_a_bad_batch_is_refused_whole_naming_the_field(change, words):
    obj = json.loads(encode_acks(steps("received", "downloaded")))
    change(obj)
    with pytest.raises(ProtocolError, match=words):
        decode_acks(json.dumps(obj))


@pytest.mark.parametrize("raw", [
    b'{"v":1,"command_id":"c1","speaker_id":"ap-1","event":"exploded","at":"2026-12-01T23:00:00.000Z"}',
    b'{"v":1,"command_id":"c1","speaker_id":"ap-1","event":"played"}',
    b'{"v":1,"command_id":"c 1","speaker_id":"ap-1","event":"played","at":"2026-12-01T23:00:00.000Z"}',
    b'{"v":1,"command_id":"c1","speaker_id":"AP 1","event":"played","at":"2026-12-01T23:00:00.000Z"}',
    b'{"v":2,"command_id":"c1"}', b'[]', b'not json',
])
def test_a_bad_one_event_ack_is_refused_with_the_same_words_as_before(raw):
    with pytest.raises(ProtocolError) as old:
        Ack.decode(raw)
    with pytest.raises(ProtocolError, match=str(old.value).replace("'", ".").replace("(", ".")
                       .replace(")", ".")):
        decode_acks(raw)
