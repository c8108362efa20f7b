"""A player whose decoder starts late joins the stream at the live point, not at the connection's start.

Real Icecast, a real ffmpeg pushing a tone, the agent's own file sink player with its
decoder start held back (the `_start_decoder` seam): the audio that queued up meanwhile
must be dropped, not decoded at once and played late for the whole connection.
"""

from __future__ import annotations

import threading
import time

import pytest

from speaker_agent.config import StreamSettings
from speaker_agent.live_point import LiveJoin, mp3_frame
from speaker_agent.stream_player import FileSinkStreamPlayer
from tests.speaker_agent.test_streams import heard, wav_seconds
from tests.support.icecast import push_tone, stop_push

HOLD_S = 2.5  # how late the decoder starts; the backlog a player used to keep
PLAY_S = 2.0  # how long it then plays


class SlowStartPlayer(FileSinkStreamPlayer):
    """The file sink player, its ffmpeg started HOLD_S after the connection opened."""

    released_at: float | None = None

    def _start_decoder(self, argv):
        time.sleep(HOLD_S)
        self.released_at = time.monotonic()
        return super()._start_decoder(argv)


def _play_late(url: str, sink_dir) -> tuple[float, object]:
    """Play `url` with the decoder held back; (seconds it ran after starting, the result)."""
    player = SlowStartPlayer(StreamSettings(), sink_dir)
    results = []
    t = threading.Thread(target=lambda: results.append(player.play(url, "s1", 100, lambda: None)))
    t.start()
    while player.released_at is None and t.is_alive():
        time.sleep(0.05)
    assert player.released_at is not None, f"the player ended before its decoder started: {results}"
    time.sleep(PLAY_S)
    window = time.monotonic() - player.released_at
    assert player.interrupt()
    t.join(20)
    return window, results[0] if results else None


@pytest.mark.process
def test_a_late_decoder_plays_from_the_live_point_not_the_backlog(icecast, tmp_path):
    codecs = ("opus", "mp3")  # Ogg pages and MP3 frames; both at once, to keep the test short
    pushers = [push_tone(icecast.source_url(f"/live-point-{c}"), freq=440, codec=c,
                         log=tmp_path / f"push-{c}.log") for c in codecs]
    runs: dict[str, tuple] = {}
    try:
        for c in codecs:
            icecast.wait_mount(f"/live-point-{c}")
        threads = [threading.Thread(target=lambda c=c: runs.__setitem__(
            c, _play_late(icecast.listen_url(f"/live-point-{c}"), tmp_path / c))) for c in codecs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for p in pushers:
            stop_push(p)
    for c in codecs:
        window, result = runs[c]
        assert result is not None and result.outcome == "interrupted", (c, result)
        wav = tmp_path / c / "s1.001.wav"
        assert heard(wav, 440), f"{c}: the decoder was fed whole pages/frames, a clean tone"
        # Everything recorded was spoken after the decoder started: none of the HOLD_S backlog.
        # (A player that decodes the backlog records HOLD_S + PLAY_S seconds.)
        assert 0.5 < wav_seconds(wav) < window + 1.0, (c, wav_seconds(wav), window)


def test_mp3_is_cut_at_a_frame_whose_next_frame_confirms_it():
    frame = bytes([0xFF, 0xFB, 0x54, 0xC4]) + bytes(100)  # MPEG-1 L3 64 kbps 48 kHz: 192 bytes
    frame = frame + bytes(192 - len(frame))
    assert mp3_frame(frame, 0) == (192, 0xFA | (1 << 8))
    join = LiveJoin("mp3")
    assert join.feed(frame * 3) == b""  # before the decoder is ready: dropped
    join.ready()
    torn = frame[50:] + frame * 2
    assert join.feed(torn) == frame * 2  # the torn frame never reaches the decoder
    assert join.feed(b"more") == b"more"


def test_ogg_keeps_the_header_pages_and_drops_the_queued_audio():
    def page(flags: int, granule: int, body: bytes) -> bytes:
        return (b"OggS\x00" + bytes([flags]) + granule.to_bytes(8, "little") + bytes(12)
                + bytes([1, len(body)]) + body)

    head, tags = page(0x02, 0, b"OpusHead"), page(0, 0, b"OpusTags")
    old, cont, live = page(0, 960, b"old"), page(0x01, 1920, b"cont"), page(0, 2880, b"live")
    join = LiveJoin("ogg")
    assert join.feed(head + tags + old) == b""  # queued audio: dropped, headers kept
    join.ready()
    assert join.feed(cont + live[:5]) == b""  # a page that continues a packet: dropped too
    assert join.feed(live[5:]) == head + tags + live
