"""Live ingest with real ffmpeg and a real Icecast: browser-like WebM chunks in, chirps heard out.

The chunks come from ffmpeg encoding a chirp train in real time to WebM/Opus, cut every
250 ms like MediaRecorder's `start(250)`; some are posted twice and two are swapped, as a
retrying phone on 4G would. A listener on the mount must hear the chirps, and when the
chunks stop (the tab is closed) the watchdog must end the session by itself.
"""

from __future__ import annotations

import threading

import pytest

from controller.live.chunks import ChunkSequencer
from controller.live.ingest import IngestError, LiveIngest
from tests.support.live_audio import Ear, Mouth, chirp_train, find_chirps
from tests.support.processes import wait_for


def test_sequencer_orders_drops_duplicates_and_skips_a_lost_piece():
    seq = ChunkSequencer(max_ahead=3)
    assert seq.add(0, b"a") == [b"a"]
    assert seq.add(2, b"c") == []          # early: held until 1 arrives
    assert seq.add(1, b"b") == [b"b", b"c"]
    assert seq.add(1, b"b") == []          # a retried POST
    assert seq.duplicates == 1
    # piece 3 is lost for good: after 3 more are held, it is given up
    assert seq.add(4, b"e") == [] and seq.add(5, b"f") == [] and seq.add(6, b"g") == []
    assert seq.add(7, b"h") == [b"e", b"f", b"g", b"h"]
    assert seq.skipped == 1


def test_feed_refuses_unknown_sessions_and_empty_chunks():
    ingest = LiveIngest(on_end=lambda *_: None)
    with pytest.raises(IngestError, match="not on air"):
        ingest.feed(7, 0, b"x")
    ingest.open(7, "/live-7", "icecast://nobody@127.0.0.1:9/live-7")
    with pytest.raises(IngestError, match="bytes"):
        ingest.feed(7, 0, b"")


@pytest.mark.process
def test_chunks_reach_a_listener_and_a_closed_tab_ends_the_session(icecast, tmp_path):
    ended: list[tuple[int, str]] = []
    ingest = LiveIngest(on_end=lambda sid, why: ended.append((sid, why)),
                        fed_mounts=icecast.mounts, idle_s=2.0, log_dir=tmp_path)
    ingest.open(1, "/live-test-1", icecast.source_url("/live-test-1"))
    ingest.start(interval_s=0.25)
    pcm, _ = chirp_train(seconds=5, period=1.0, lead=1.5)
    late: dict[int, bytes] = {}

    def send(seq: int, data: bytes) -> None:
        if seq == 4:  # overtaken by the next request
            late[4] = data
            return
        ingest.feed(1, seq, data)
        if seq == 5:
            ingest.feed(1, 4, late.pop(4))
        if seq in (2, 6):  # a retried POST
            ingest.feed(1, seq, data)

    mouth = Mouth(pcm, send)
    speaking = threading.Thread(target=mouth.run)
    speaking.start()
    icecast.wait_mount("/live-test-1")
    ear = Ear(icecast.listen_url("/live-test-1")).start()
    speaking.join()
    # the tab is closed: no more chunks; the session ends by itself within a few seconds
    wait_for(lambda: ended, timeout=30, what="the watchdog to end the session")
    ear.stop()
    assert ended == [(1, "browser_gone")]
    assert ingest.active() == []
    wait_for(lambda: "/live-test-1" not in icecast.mounts(), timeout=20, what="mount released")
    x, _ = ear.samples()
    assert len(find_chirps(x)) >= 2, "the listener did not hear the chirps"
    ingest.stop()
