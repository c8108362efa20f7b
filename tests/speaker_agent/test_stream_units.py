"""In-process tests of the stream player's pieces: token in the URL, no token in reasons, format choice."""

from __future__ import annotations

from speaker_agent.config import StreamSettings
from speaker_agent.stream_player import FileSinkStreamPlayer, _reason, input_format, public_url, with_token


def test_the_token_rides_in_the_query_and_never_in_what_is_logged():
    url = with_token("http://127.0.0.1:8000/relay-7?spk=ap-1", "s3cret-token-123456", "token")
    assert url == "http://127.0.0.1:8000/relay-7?spk=ap-1&token=s3cret-token-123456"
    assert with_token(url, "other", "token") == url  # a URL that already carries one is kept
    assert public_url(url) == "http://127.0.0.1:8000/relay-7"
    reason = _reason(f"{url}: Server returned 401 Unauthorized (authorization failed)\n", url)
    assert reason == "Server returned 401 Unauthorized (authorization failed)"
    moved = _reason("Redirected to http://10.0.0.2/relay-7?token=s3cret-token-123456 failed", url)
    assert "s3cret" not in moved and "<url>" in moved


def test_the_container_comes_from_the_mount_name_or_the_config():
    assert input_format("http://h/relay-7.mp3?token=x", "auto") == "mp3"
    assert input_format("http://h/live.opus", "auto") == "ogg"
    assert input_format("http://h/relay-7", "auto") is None
    assert input_format("http://h/relay-7", "auto", "audio/mpeg") == "mp3"
    assert input_format("http://h/relay-7.mp3", "auto", "application/ogg; x=1") == "ogg"
    assert input_format("http://h/relay-7.mp3", "probe") is None
    assert input_format("http://h/relay-7", "ogg") == "ogg"


def test_file_sink_numbers_one_wav_per_connection(tmp_path):
    player = FileSinkStreamPlayer(StreamSettings(), tmp_path)
    first = player.output_args("relay-7", 80)
    assert first[-1].endswith("relay-7.001.wav") and "volume=0.80" in first
    (tmp_path / "relay-7.001.wav").write_bytes(b"")
    assert player.output_args("relay-7", 100)[-1].endswith("relay-7.002.wav")
    args = player.input_args("http://127.0.0.1:8000/relay-7", "audio/ogg")
    assert args[args.index("-f") + 1] == "ogg" and "nobuffer" in args and "low_delay" in args
    assert args[-1] == "pipe:0"  # the agent holds the connection; the token never reaches argv


def _playback(tmp_path, acks: list):
    from types import SimpleNamespace

    from speaker_agent.store import Store
    from speaker_agent.streams import StreamPlayback

    cfg = SimpleNamespace(stream=StreamSettings(retry_min_s=0.5, retry_max_s=15.0))
    store = Store(tmp_path / "agent.db")

    def ack(cid, event, detail):
        acks.append((event, detail))
        return f"{cid} {event}".encode()

    health = SimpleNamespace(error=lambda _words: None)
    return StreamPlayback(cfg, store, None, None, health, ack, lambda: None, lambda: None), store


def _session(store, session_id: str, lasts: float):
    import time
    from datetime import UTC, datetime, timedelta

    from protocol.messages import Command, Stream

    now = datetime.now(UTC)
    until = now + timedelta(seconds=lasts)
    cmd = Command(id=f"cmd-{session_id}", type="play_stream", speaker_id="ap-1", issued_at=now,
                  expires_at=until, priority="normal", play_at=now,
                  stream=Stream(session_id=session_id, url="http://127.0.0.1:1/relay-1",
                                token="t" * 20, kind="relay", until=until))
    store.add(cmd, cmd.encode(), time.time(), b"received")
    return store.get(cmd.id)


def test_a_mount_not_on_the_air_yet_is_waited_for_and_a_cut_at_the_end_is_the_end(tmp_path):
    import time

    from speaker_agent.stream_player import StreamResult

    acks: list = []
    streams, store = _playback(tmp_path, acks)
    # The relay's ffmpeg has not fed the mount yet: Icecast says 404. Not a stall: try again soon.
    item = _session(store, "relay-1", lasts=30)
    not_there = StreamResult("failed", "HTTP 404 File Not Found")
    streams._after(item, not_there, None)
    assert acks == [] and time.time() < streams._retry_at[item.id] <= time.time() + 2
    # Once it has played, the mount going away is a stall the log must show.
    streams._progress(item, "stream_playing")
    streams._after(store.get(item.id), not_there, None)
    assert acks[-1] == ("stream_stalled", "unreachable: HTTP 404 File Not Found"), acks
    # Icecast cuts the listener a moment before `until`: not a gap, and no reconnecting.
    ending = _session(store, "relay-2", lasts=1.5)
    before = list(acks)
    streams._after(ending, StreamResult("dropped", "end of stream", 1.0), None)
    assert acks == before
    assert streams._retry_at[ending.id] == ending.command.stream.until.timestamp()
