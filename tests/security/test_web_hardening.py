"""Security headers, cookie flags, upload size limit before the body is read, escaped user text."""

from __future__ import annotations

import pytest

from controller.services import registry, users

XSS = "<script>alert('loa')</script><img src=x onerror=alert(1)>"


class ExplodingStream:
    """A request body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readlines = read


def login(app, controller, role="admin", name=None):
    """A test client logged in (through the real login form) as a new user with the role."""
    app.config.update(WTF_CSRF_ENABLED=False)
    name = name or f"{role}-web"
    with controller.db.session() as s:
        users.add_user(s, name, role, "mat-khau-dung-8")
    client = app.test_client()
    r = client.post("/login", data={"username": name, "password": "mat-khau-dung-8"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return client


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/", "/api/v1/speakers"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app, controller):
    app.config.update(WTF_CSRF_ENABLED=False)
    with controller.db.session() as s:
        users.add_user(s, "chu-tich", "admin", "mat-khau-dung-8")
    form = {"username": "chu-tich", "password": "mat-khau-dung-8"}
    plain = app.test_client().post("/login", data=form)
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = app.test_client().post("/login", data=form, base_url="https://localhost")
    for c in https.headers.getlist("Set-Cookie"):
        assert "Secure" in c and "HttpOnly" in c
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cookie_secure_setting_marks_cookies_secure_on_plain_http(tmp_path):
    from controller.app import create_app
    from controller.config import load
    from controller.runtime import Controller
    from tests.support.controller import fresh_db_url

    ctl = Controller(load(tmp_path / "d", database_url=fresh_db_url(tmp_path), cookie_secure="true"))
    try:
        app = create_app(controller=ctl)
        assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    finally:
        ctl.stop()


@pytest.mark.parametrize("path", ["/compose", "/login", "/api/v1/broadcasts"])
def test_huge_body_is_refused_with_413_before_it_is_read(app, controller, token_for, path):
    client = login(app, controller)
    headers = {"Authorization": f"Bearer {token_for('admin', 'api-admin')}"}
    huge = app.config["MAX_CONTENT_LENGTH"] * 100
    ctype = "application/json" if path.startswith("/api/") else "multipart/form-data; boundary=x"
    r = client.post(path, content_type=ctype, headers=headers, environ_overrides={
        "wsgi.input": ExplodingStream(), "CONTENT_LENGTH": str(huge)})
    assert r.status_code == 413


def test_title_with_script_is_shown_as_text_in_page_and_api(app, controller, token_for):
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token_for('admin', 'api-admin')}"}
    r = api.post("/api/v1/broadcasts", json={"title": XSS, "text": "Thông báo thử.",
                                             "targets": {"all": True}}, headers=auth)
    assert r.status_code == 201, r.get_json()
    bid = r.get_json()["id"]
    got = api.get(f"/api/v1/broadcasts/{bid}", headers=auth)
    assert got.content_type.startswith("application/json")
    assert XSS in got.get_json().values() or got.get_json().get("title") == XSS
    web = login(app, controller, "viewer")
    for path in (f"/broadcasts/{bid}", "/"):
        page = web.get(path).get_data(as_text=True)
        if "alert(" not in page:
            continue  # this page does not show titles
        for raw in ("<script>alert", "<img src=x"):
            i = page.find(raw)
            assert i < 0, page[max(0, i - 300):i + 100]
        assert "&lt;script&gt;alert(" in page
        break
    else:
        pytest.fail("no page shows the broadcast's title")


OPEN_REDIRECTS = [
    "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/\t/evil.example",
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example",
    "/%5cevil.example", "/%5Cevil.example", "%2f%2fevil.example", "/%2f/evil.example",
    "/%2F%2Fevil.example", "https://evil.example", "http:evil.example", "http:/evil.example",
    "//evil.example/%2f..", "javascript:alert(1)", "\u2215\u2215evil.example", "/\uff0fevil.example",
    "\uff0f\uff0fevil.example", " //evil.example", "/ /evil.example", "evil.example",
    "/%E2%80%8B/evil.example", "/%00/evil.example",
]


def _browser_target(location: str) -> str:
    """Where a browser goes from a Location header: it drops tabs/newlines, `\\` means `/`."""
    from urllib.parse import urljoin, urlsplit

    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").replace("\\", "/")
    return urlsplit(urljoin("http://localhost/login", cleaned.strip())).netloc


def test_login_and_language_switch_never_redirect_off_site(app, controller):
    app.config.update(WTF_CSRF_ENABLED=False)
    with controller.db.session() as s:
        users.add_user(s, "thu-ky", "editor", "mat-khau-dung-8")
    off_site = []
    for bad in OPEN_REDIRECTS:
        client = app.test_client()
        r = client.post("/login", query_string={"next": bad},
                        data={"username": "thu-ky", "password": "mat-khau-dung-8"})
        assert r.status_code == 302
        lang = client.post("/lang", data={"lang": "en", "next": bad})
        off_site += [(bad, x.headers["Location"]) for x in (r, lang)
                     if _browser_target(x.headers["Location"]) not in ("", "localhost")]
    assert not off_site


def test_login_keeps_a_same_site_next(app, controller):
    app.config.update(WTF_CSRF_ENABLED=False)
    with controller.db.session() as s:
        users.add_user(s, "thu-ky", "editor", "mat-khau-dung-8")
    r = app.test_client().post("/login?next=%2Fbroadcasts%3Fpage%3D2",
                               data={"username": "thu-ky", "password": "mat-khau-dung-8"})
    assert r.headers["Location"] == "/broadcasts?page=2"


@pytest.mark.parametrize("path", ["/compose", "/users", "/api/v1/broadcasts"])
def test_upload_without_login_is_refused_before_its_body_is_read(app, path):
    app.config.update(WTF_CSRF_ENABLED=True)  # the CSRF check reads the form: it must not get to
    r = app.test_client().post(path, content_type="multipart/form-data; boundary=x",
                               environ_overrides={"wsgi.input": ExplodingStream(),
                                                  "CONTENT_LENGTH": str(1024 * 1024)})
    assert r.status_code == 413


@pytest.mark.process
def test_real_server_refuses_a_200_mb_body_by_its_length_without_reading_it(app):
    import socket

    from controller.server import WebServer
    from tests.support.processes import free_port

    port = free_port()
    web = WebServer(app, "127.0.0.1", port)
    web.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            # Headers only: a server that waits for the 200 MB never answers, and recv times out.
            sock.sendall(b"POST /compose HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: multipart/form-data; boundary=x\r\n"
                         b"Content-Length: 209715200\r\n\r\n")
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    finally:
        web.stop()


def test_media_is_cached_privately_never_by_a_shared_cache(app, controller, tmp_path):
    with controller.db.session() as s:
        registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(b"ID3" + b"\0" * 100)
    sha, _ = controller.store.put(mp3)
    url = controller.store.signed_url("http://localhost", sha, "spk-a", 600)
    r = app.test_client().get(url.removeprefix("http://localhost"))
    assert r.status_code == 200
    cache = r.headers["Cache-Control"]
    assert "private" in cache and "public" not in cache, cache
