"""In-process tests of the agent's parts: cache, store, relay (gpiozero MockFactory), volume, backoff."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from protocol.acks import MAX_ACKS_PER_MESSAGE, decode_acks
from protocol.messages import Ack, Command, Media
from speaker_agent.cache import AudioCache, CacheFull
from speaker_agent.config import RelaySettings, VolumeSettings
from speaker_agent.mqtt_link import _messages, backoff_delay
from speaker_agent.relay import Relay
from speaker_agent.store import Store
from speaker_agent.volume import level_for


def put(cache: AudioCache, body: bytes, age: float = 0) -> str:
    sha = hashlib.sha256(body).hexdigest()
    cache.make_room(sha, len(body), set())
    cache.part_path(sha).write_bytes(body)
    cache.commit(sha)
    t = time.time() - age
    os.utime(cache.path(sha), (t, t))
    return sha


def test_cache_evicts_least_recently_used_but_never_needed_audio(tmp_path):
    cache = AudioCache(tmp_path, max_bytes=3000)
    old_needed = put(cache, b"a" * 1000, age=300)
    old = put(cache, b"b" * 1000, age=200)
    recent = put(cache, b"c" * 1000, age=100)
    new = hashlib.sha256(b"d" * 1000).hexdigest()
    cache.make_room(new, 1000, keep={old_needed})
    assert cache.has(old_needed) and cache.has(recent) and not cache.path(old).exists()
    with pytest.raises(CacheFull, match="larger than the cache"):
        cache.make_room(new, 5000, keep=set())
    with pytest.raises(CacheFull, match="still need"):
        cache.make_room(new, 2500, keep={old_needed, recent})


def test_cache_detects_rot(tmp_path):
    cache = AudioCache(tmp_path, max_bytes=10_000)
    sha = put(cache, b"x" * 100)
    cache.path(sha).write_bytes(b"y" * 100)
    assert not cache.has(sha) and not cache.path(sha).exists()


def _play(cid: str, priority: str = "normal", sha: str = "a" * 64) -> Command:
    now = datetime.now(UTC)
    return Command(id=cid, type="play", speaker_id="ap-1", issued_at=now,
                   expires_at=now + timedelta(minutes=5), priority=priority, play_at=now,
                   media=Media("http://127.0.0.1/x", sha, 10, 1000))


def test_store_is_idempotent_durable_and_orders_by_priority(tmp_path):
    path = tmp_path / "agent.db"
    store = Store(path)
    for cid, prio in (("n1", "normal"), ("e1", "emergency"), ("p1", "priority")):
        cmd = _play(cid, prio)
        assert store.add(cmd, cmd.encode(), time.time(), b"ack") is None
    again = _play("n1")
    assert store.add(again, again.encode(), time.time(), b"ack").state == "received"
    store.set_state("e1", "downloaded", time.time(), ack=b"ack2")
    store.close()
    store = Store(path)  # as after a restart
    assert [i.id for i in store.items(("received", "downloaded"))] == ["e1", "p1", "n1"]
    assert [p for _, p in store.outbox()] == [b"ack"] * 3 + [b"ack2"]
    assert store.queue_len() == 3 and store.needed_hashes() == {"a" * 64}


def test_relay_pin_history_with_mock_factory(tmp_path, monkeypatch):
    factory = MockFactory()
    monkeypatch.setattr("gpiozero.pins.mock.MockFactory", lambda: factory)
    relay = Relay(RelaySettings(enabled=True, mock=True, pin=17, warmup_s=0.2, idle_off_s=0.3),
                  tmp_path / "h.jsonl")
    pin = factory.pin(17)
    relay.power_on()
    assert relay.is_on and pin.state
    relay.idle()
    relay.tick(next_start=None)
    assert relay.is_on  # idle timeout not reached yet
    time.sleep(0.35)
    relay.tick(next_start=time.time() + 0.1)
    assert relay.is_on  # something starts within the warm-up: keep it on
    relay.tick(next_start=None)
    assert not relay.is_on
    # MockPin.states holds (seconds since previous change, level)
    assert [s.state for s in pin.states] == [False, True, False]
    assert pin.states[2].timestamp >= 0.3
    relay.close()


def test_relay_active_low(tmp_path, monkeypatch):
    factory = MockFactory()
    monkeypatch.setattr("gpiozero.pins.mock.MockFactory", lambda: factory)
    relay = Relay(RelaySettings(enabled=True, mock=True, pin=5, active_high=False), Path(tmp_path / "h"))
    pin = factory.pin(5)
    assert pin.state is True  # off = high for an active-low board
    relay.power_on()
    assert pin.state is False
    relay.close()


def test_volume_per_priority():
    s = VolumeSettings(level=80, emergency=100, priority=90)
    assert [level_for(p, 40, s) for p in ("normal", "priority", "emergency")] == [40, 90, 100]


def test_backoff_grows_with_jitter_and_is_capped():
    for attempt in range(10):
        d = backoff_delay(attempt, base=1, cap=30)
        full = min(30, 2 ** attempt)
        assert full / 2 <= d <= full
    assert len({round(backoff_delay(5), 6) for _ in range(20)}) > 1


def test_alsa_player_runs_the_configured_command(tmp_path):
    from speaker_agent.player import AlsaPlayer

    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"x")
    copy = tmp_path / "copy"
    assert AlsaPlayer(("cp", "{file}", str(copy))).play(audio, "c1", 80).outcome == "completed"
    assert copy.read_bytes() == b"x"
    failed = AlsaPlayer(("cat", "{file}", "/nonexistent")).play(audio, "c2", 80)
    assert failed.outcome == "failed" and "exited with 1" in failed.reason


def test_file_sink_is_paced_and_interruptible(tmp_path):
    import subprocess
    import threading

    from speaker_agent.player import FileSinkPlayer

    mp3 = tmp_path / "t.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=10", "-ac", "1", "-y", str(mp3)], check=True)
    player = FileSinkPlayer(tmp_path / "sink")
    threading.Timer(1.0, player.interrupt).start()
    result = player.play(mp3, "c1", 50)
    assert result.outcome == "interrupted"
    plays = __import__("json").loads((tmp_path / "sink" / "c1.json").read_text())["plays"]
    assert plays[0]["outcome"] == "interrupted" and plays[0]["volume"] == 50
    # real-time pacing: interrupted after ~1 s of a 10 s tone, so well short of the end
    assert plays[0]["ended_at"] - plays[0]["started_at"] < 9
    assert (tmp_path / "sink" / "c1.wav").exists()
    assert not player.interrupt()  # nothing playing now


def test_outbox_rows_leave_as_ordered_batches_and_a_lone_row_byte_for_byte(tmp_path):
    store = Store(tmp_path / "agent.db")
    now = datetime.now(UTC).replace(microsecond=0)  # the wire carries milliseconds
    made = [Ack(f"c{i // 3}", "ap-1", ("received", "downloaded", "playing")[i % 3], now)
            for i in range(MAX_ACKS_PER_MESSAGE + 2)]
    for ack in made:
        store.outbox_add(ack.encode())
    store.outbox_add(b"{}")  # a row that does not decode still leaves, alone and as it is
    store.outbox_add(made[0].encode())
    rows = store.outbox()
    messages = list(_messages(rows))
    assert [len(seqs) for seqs, _ in messages] == [MAX_ACKS_PER_MESSAGE, 2, 1, 1]
    assert [q for seqs, _ in messages for q in seqs] == [q for q, _ in rows]
    assert [a for _, p in messages[:2] for a in decode_acks(p)] == made
    assert messages[2][1] == b"{}" and messages[3][1] == made[0].encode()
    store.outbox_done(messages[0][0])  # one PUBACK forgets the whole batch, at once
    assert [q for q, _ in store.outbox()] == [q for seqs, _ in messages[1:] for q in seqs]
