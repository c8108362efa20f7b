"""The live ingest's bookkeeping: chunks in any order become one stream, each piece once.

The whole chain (chunks → encoder → Icecast → listener) is tested through the API in
test_live_api.py.
"""

from __future__ import annotations

import pytest

from controller.live.chunks import ChunkSequencer
from controller.live.ingest import IngestError, LiveIngest


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
