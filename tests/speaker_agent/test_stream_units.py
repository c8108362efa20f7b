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
