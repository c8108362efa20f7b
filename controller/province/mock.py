"""A stand-in for the provincial source system, on loopback, for tests, the bench and `demo --province`.

Nine operations with the field names of public implementations: login, token refresh, device
register, device status, aired-bulletin log, bulletin list, and send / cancel / reschedule a
bulletin down to a commune. It records what it receives (deduped by the record id), and can
be told to fail: 500s, timeouts, expired tokens, slow answers.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

import requests
from flask import Flask, jsonify, request

USERNAME, PASSWORD = "xa-demo", "mat-khau-tinh-demo"


def envelope(status: int = 0, message: str = "Thành công", content=None):
    """The answer shape the province uses: TrangThaiGui 0 ok, MoTa, NoiDung."""
    return jsonify({"TrangThaiGui": status, "MoTa": message, "NoiDung": content})


@dataclass
class Faults:
    """What the mock does wrong, set by a test."""

    down: bool = False
    """Every upward operation answers 500."""
    fail_next: int = 0
    """The next N upward operations answer 500."""
    slow_s: float = 0.0
    """Each answer waits this long."""
    token_ttl_s: int = 3600
    """Lifetime of tokens it hands out (HetHan)."""


@dataclass
class MockProvince:
    """The recorded state; `app` serves it."""

    faults: Faults = field(default_factory=Faults)
    status: dict = field(default_factory=dict)
    """MaBanGhi → device status message (first copy)."""
    aired: dict = field(default_factory=dict)
    """MaBanGhi → aired-bulletin log message (first copy)."""
    order: list = field(default_factory=list)
    """(operation, MaBanGhi) in arrival order, first copies only."""
    duplicates: int = 0
    logins: int = 0
    unauthorized: int = 0
    tokens: dict = field(default_factory=dict)
    registered: dict = field(default_factory=dict)
    sent_down: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (as if it expired early)."""
        with self.lock:
            self.tokens.clear()


def create_app(mock: MockProvince) -> Flask:
    """The Flask app of the mock province."""
    app = Flask("mock_province")

    def _slow():
        if mock.faults.slow_s:
            time.sleep(mock.faults.slow_s)

    def _fault():
        with mock.lock:
            if mock.faults.down:
                return True
            if mock.faults.fail_next > 0:
                mock.faults.fail_next -= 1
                return True
        return False

    def _authorized() -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with mock.lock:
            until = mock.tokens.get(token)
            ok = until is not None and until > time.monotonic()
            if not ok:
                mock.unauthorized += 1
        return ok

    @app.post("/api/v1/auth/login")
    def login():  # 1
        _slow()
        if _fault():
            return envelope(1, "Lỗi máy chủ"), 500
        body = request.get_json(silent=True) or {}
        if body.get("TenDangNhap") != USERNAME or body.get("MatKhau") != PASSWORD:
            return envelope(1, "Sai tên đăng nhập hoặc mật khẩu"), 401
        token = secrets.token_urlsafe(16)
        with mock.lock:
            mock.tokens[token] = time.monotonic() + mock.faults.token_ttl_s
            mock.logins += 1
        return envelope(content={"Token": token, "HetHan": mock.faults.token_ttl_s})

    @app.post("/api/v1/auth/refresh")
    def refresh():  # 2
        if not _authorized():
            return envelope(1, "Token hết hạn"), 401
        token = secrets.token_urlsafe(16)
        with mock.lock:
            mock.tokens[token] = time.monotonic() + mock.faults.token_ttl_s
        return envelope(content={"Token": token, "HetHan": mock.faults.token_ttl_s})

    def _record(kind: str, store: dict):
        _slow()
        if _fault():
            return envelope(1, "Lỗi máy chủ"), 500
        if not _authorized():
            return envelope(1, "Token hết hạn"), 401
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return envelope(2, "Dữ liệu không hợp lệ"), 400
        key = request.headers.get("Idempotency-Key") or body.get("MaBanGhi")
        with mock.lock:
            if key in store:
                mock.duplicates += 1
            else:
                store[key] = body
                mock.order.append((kind, key))
        return envelope()

    @app.post("/api/v1/cum-loa/dang-ky")
    def register():  # 3
        if not _authorized():
            return envelope(1, "Token hết hạn"), 401
        body = request.get_json(silent=True) or {}
        mock.registered[str(body.get("CumLoaId"))] = body
        return envelope()

    @app.post("/api/v1/cum-loa/trang-thai")
    def device_status():  # 4
        return _record("status", mock.status)

    @app.post("/api/v1/ban-tin/nhat-ky")
    def aired_log():  # 5
        return _record("aired", mock.aired)

    @app.get("/api/v1/ban-tin")
    def bulletin_list():  # 6
        return envelope(content=list(mock.sent_down))

    @app.get("/api/v1/nhan-duoc")
    def received():  # not one of the nine: what the mock got, for people watching the demo
        with mock.lock:
            return jsonify({"status": len(mock.status), "aired": len(mock.aired),
                            "duplicates": mock.duplicates,
                            "last": [dict(kind=k, **(mock.status.get(key) or mock.aired.get(key)))
                                     for k, key in mock.order[-10:]]})

    return app


def push(commune_url: str, token: str, operation: str, bulletin: dict, timeout: float = 60):
    """Operations 7-9: send, cancel or reschedule a bulletin down to a commune; its envelope."""
    path = {"receive": "/province/v1/ban-tin", "cancel": "/province/v1/ban-tin/huy",
            "reschedule": "/province/v1/ban-tin/doi-lich"}[operation]
    r = requests.post(commune_url.rstrip("/") + path, json=bulletin, timeout=timeout,
                      headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.json()


class MockProvinceServer:
    """The mock on a free loopback port, served by waitress (keep-alive, like a real server)."""

    def __init__(self, port: int = 0):
        from controller.server import WebServer

        self.mock = MockProvince()
        self.web = WebServer(create_app(self.mock), "127.0.0.1", port, threads=8)
        self.url = f"http://127.0.0.1:{self.web.server.effective_port}"

    def start(self) -> MockProvinceServer:
        """Serve in the background."""
        self.web.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.web.stop()
