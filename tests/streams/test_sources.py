"""Registering upstream sources: ffprobe says whether a URL carries audio before it is saved."""

from __future__ import annotations

import subprocess

import pytest
import sqlalchemy as sa

from controller.relay_models import StreamSource
from tests.support.media_server import MediaServer
from tests.support.processes import free_port

FORMATS = {  # name: (ffmpeg output options, expected codec)
    "tone.mp3": (["-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"], "mp3"),
    "tone.ogg": (["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"], "opus"),
    "tone.aac": (["-c:a", "aac", "-b:a", "32k", "-f", "adts"], "aac"),
}


def _encode(out, options):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=f=440:d=2", "-ac", "1", *options, str(out)], check=True)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A loopback HTTP server with a short tone in each format, an HLS playlist and a web page."""
    d = tmp_path_factory.mktemp("upstream")
    server = MediaServer()
    for name, (options, _codec) in FORMATS.items():
        _encode(d / name, options)
        server.add(name, (d / name).read_bytes(), 2000)
    _encode(d / "live.m3u8", ["-c:a", "aac", "-b:a", "32k", "-f", "hls", "-hls_time", "1",
                              "-hls_segment_filename", str(d / "seg%d.ts")])
    for f in d.glob("seg*.ts"):
        server.add(f.name, f.read_bytes(), 1000)
    server.add("live.m3u8", (d / "live.m3u8").read_bytes(), 2000)
    server.add("page.html", b"<!doctype html><html><body>Trang chu</body></html>" * 50, 0)
    yield server
    server.close()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def saved(controller) -> int:
    with controller.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(StreamSource))


def test_mp3_aac_opus_and_hls_sources_are_probed_and_saved(client, token_for, upstream):
    token = token_for("editor")
    wanted = {**{n: c for n, (_o, c) in FORMATS.items()}, "live.m3u8": "aac"}
    for name in wanted:
        r = client.post("/api/v1/sources", headers=auth(token),
                        json={"name": f"Đài {name}", "url": upstream.url(name)})
        assert r.status_code == 201, r.get_json()
    listed = client.get("/api/v1/sources", headers=auth(token_for("viewer"))).get_json()["sources"]
    assert {x["name"]: (x["codec"], x["probe_error"]) for x in listed} == {
        f"Đài {n}": (c, None) for n, c in wanted.items()}


def test_unreachable_or_non_audio_url_is_refused_unless_forced(client, token_for, upstream,
                                                               controller):
    h = auth(token_for("approver"))
    closed = f"http://127.0.0.1:{free_port()}/vov1.mp3"
    r = client.post("/api/v1/sources", headers=h, json={"name": "VOV1", "url": closed})
    assert r.status_code == 400
    assert r.get_json()["error"] == "source_unreachable"
    assert "force" in r.get_json()["message"] and r.get_json()["field"] == "url"
    r = client.post("/api/v1/sources", headers=h,
                    json={"name": "VOV1", "url": upstream.url("page.html")})
    assert (r.status_code, r.get_json()["error"]) == (400, "source_not_audio")
    r = client.post("/api/v1/sources", headers=h, json={
        "name": "VOV1", "url": upstream.url("tone.mp3"), "backup_url": upstream.url("page.html")})
    assert (r.status_code, r.get_json()["field"]) == (400, "backup_url")
    assert saved(controller) == 0
    # A station that is off the air at night: the user insists.
    r = client.post("/api/v1/sources", headers=h, json={"name": "VOV1", "url": closed,
                                                        "force": True})
    assert r.status_code == 201
    (src,) = client.get("/api/v1/sources", headers=h).get_json()["sources"]
    assert "cannot reach" in src["probe_error"]


BAD = [
    ({"name": "x", "url": "file:///etc/passwd"}, "url"),
    ({"name": "x", "url": "concat:http://127.0.0.1/a|http://127.0.0.1/b"}, "url"),
    ({"name": "x", "url": "http://203.0.113.7/vov1.mp3"}, "url"),  # loopback only in tests
    ({"name": "", "url": "http://127.0.0.1/a.mp3"}, "name"),
    ({"name": "x", "url": "http://127.0.0.1/a.mp3", "force": "yes"}, "force"),
]


def test_bad_input_names_the_field_and_probes_nothing(client, token_for, controller):
    h = auth(token_for("admin"))
    for body, field in BAD:
        r = client.post("/api/v1/sources", headers=h, json=body)
        assert (r.status_code, r.get_json()["field"]) == (400, field), body
    assert saved(controller) == 0


def test_viewers_may_not_add_sources(client, token_for):
    r = client.post("/api/v1/sources", headers=auth(token_for("viewer")),
                    json={"name": "x", "url": "http://127.0.0.1/a.mp3"})
    assert r.status_code == 403
