"""Fuzzing the upload endpoint (POST /compose with a file) and the media endpoint with hypothesis:
random bytes, filenames and content types never cause a server error, and a client's filename
never becomes a path on disk."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.services import registry, users

FILENAMES = st.one_of(
    st.text(min_size=1, max_size=60),
    st.sampled_from(["../../../../tmp/pwned.mp3", "/etc/passwd", "..\\..\\evil.mp3", "a/../../b.mp3",
                     "con.mp3", ".htaccess", "x.mp3\x00.png", "тест ấp.mp3", " ", "~/.bashrc"]),
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(["audio/mpeg", "audio/wav", "application/octet-stream", "text/html",
                     "image/svg+xml", "", "multipart/form-data", "audio/mpeg; charset=x"]),
    # A browser can't send line breaks in a header; the test client refuses to build one.
    st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t),
)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,  # CI must not flake
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def real_mp3(tmp_path_factory) -> bytes:
    """A short real MP3, so some uploads get through the checks and into the store."""
    path = tmp_path_factory.mktemp("mp3") / "tone.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1.5", "-ac", "1", "-b:a", "64k", "-y", str(path)],
                   check=True)
    return path.read_bytes()


@pytest.fixture
def editor(app, controller):
    """A logged-in editor (CSRF is tested elsewhere; here it would stop every request early)."""
    app.config.update(WTF_CSRF_ENABLED=False, TESTING=False)  # crashes answer 500, as in production
    with controller.db.session() as s:
        users.add_user(s, "bien-tap", "editor", "mat-khau-dung-8")
        registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
    client = app.test_client()
    assert client.post("/login", data={"username": "bien-tap", "password": "mat-khau-dung-8"}
                       ).status_code == 302
    return client


def _files_named(root: Path, name: str) -> list[Path]:
    base = os.path.basename(name.replace("\\", "/").replace("\x00", ""))
    if not base or base in (".", "..") or len(base) < 4:
        return []
    return [p for p in root.rglob("*") if p.name == base]


def test_fuzzed_uploads_never_crash_and_never_use_the_client_filename(editor, controller, real_mp3):
    data_dir = Path(controller.settings.data_dir)
    statuses = set()

    @FUZZ
    @given(body=st.one_of(st.binary(max_size=4096), st.just(b""), st.none()),
           filename=FILENAMES, ctype=CONTENT_TYPES, title=st.text(max_size=250))
    def run(body, filename, ctype, title):
        payload = real_mp3 if body is None else body
        form = {"title": title, "source": "upload", "all_speakers": "1", "when": "now",
                "priority": "normal", "audio_file": (io.BytesIO(payload), filename, ctype)}
        r = editor.post("/compose", data=form, content_type="multipart/form-data")
        statuses.add(r.status_code)
        assert r.status_code < 500, (filename, ctype, payload[:40], r.status_code)
        assert not _files_named(data_dir, filename), f"client filename {filename!r} used as a path"
        assert not Path("/tmp/pwned.mp3").exists()

    run()
    assert statuses & {302, 303}, f"no upload was ever accepted: {statuses}"
    for p in (data_dir / "audio").rglob("*.mp3"):  # the store holds files named by hash only
        assert len(p.stem) == 64 and all(c in "0123456789abcdef" for c in p.stem), p


def test_fuzzed_media_requests_never_crash(app, controller):
    app.config.update(TESTING=False)
    client = app.test_client()
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-a", "Ấp Mỹ An")

    @FUZZ
    # '?' and '#' would end the path; the test client refuses a path with its own query.
    @given(name=st.one_of(st.text(max_size=80).filter(lambda t: "?" not in t and "#" not in t),
                          st.just("0" * 64)),
           spk=st.one_of(st.text(max_size=20), st.just("spk-a")), exp=st.text(max_size=20),
           sig=st.text(max_size=70))
    def run(name, spk, exp, sig):
        r = client.get(f"/media/{name}.mp3", query_string={"spk": spk, "exp": exp, "sig": sig})
        assert r.status_code in (400, 403, 404, 405, 308), r.status_code

    run()
