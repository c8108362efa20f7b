"""HTTP to the province: login for a bearer token, renewed before expiry and after a 401.

The only module of the link that speaks HTTP upward. Certificates are verified (a custom CA
bundle may be given); nothing is ever sent with verification off.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests

from controller.province.mapping import Mapping
from controller.province.settings import ProvinceSettings

RENEW_MARGIN_S = 30
"""A token is renewed this long before the province said it expires."""


class ProvinceError(RuntimeError):
    """The province refused or could not be reached; the message says which and why."""


class ProvinceClient:
    """One keep-alive HTTP session to the province, with its token."""

    def __init__(self, settings: ProvinceSettings, mapping: Mapping, data_dir: Path):
        self.settings = settings
        self.mapping = mapping
        self.http = requests.Session()
        self.verify = str(Path(data_dir) / settings.ca_file) if settings.ca_file else True
        """Given on every request: a session-level `verify` loses to REQUESTS_CA_BUNDLE in the
        environment (requests merges the environment first), and the province's CA would be
        silently ignored."""
        self.token: str | None = None
        self.token_until = 0.0
        self._login_lock = threading.Lock()  # lanes share one token; one of them logs in

    def _url(self, operation: str) -> str:
        return self.settings.base_url.rstrip("/") + self.mapping.path(operation)

    def _envelope(self, r: requests.Response) -> dict:
        env = self.mapping.fields("envelope")
        try:
            body = r.json()
        except ValueError:
            raise ProvinceError(f"HTTP {r.status_code}: answer is not JSON") from None
        if not isinstance(body, dict) or body.get(env["status"]) != 0:
            desc = body.get(env["message"]) if isinstance(body, dict) else None
            raise ProvinceError(f"HTTP {r.status_code}: {env['status']}="
                                f"{body.get(env['status']) if isinstance(body, dict) else '?'} "
                                f"{desc or ''}".strip())
        return body

    def login(self) -> None:
        """Get a fresh bearer token with the username and password."""
        a = self.mapping.fields("auth")
        try:
            r = self.http.post(self._url("login"), timeout=self.settings.timeout_s, verify=self.verify,
                               json={a["username_field"]: self.settings.username,
                                     a["password_field"]: self.settings.password})
        except requests.RequestException as exc:
            raise ProvinceError(f"login: {type(exc).__name__}: {exc}"[:300]) from None
        content = self._envelope(r).get(self.mapping.fields("envelope")["content"]) or {}
        token = content.get(a["token_field"]) if isinstance(content, dict) else None
        if not token:
            raise ProvinceError(f"login: no {a['token_field']} in the answer")
        self.token = token
        self.token_until = time.monotonic() + float(content.get(a["expires_in_field"]) or 3600)

    def send(self, operation: str, message: dict, record_key: str) -> None:
        """POST one message; renew the token first when due, and once more after a 401."""
        for attempt in (1, 2):
            with self._login_lock:
                if self.token is None or time.monotonic() > self.token_until - RENEW_MARGIN_S:
                    self.login()
                token = self.token
            try:
                r = self.http.post(self._url(operation), json=message, verify=self.verify,
                                   timeout=self.settings.timeout_s,
                                   headers={"Authorization": f"Bearer {token}",
                                            "Idempotency-Key": record_key})
            except requests.RequestException as exc:
                raise ProvinceError(f"{operation}: {type(exc).__name__}: {exc}"[:300]) from None
            if r.status_code == 401 and attempt == 1:
                with self._login_lock:  # expired early or revoked: log in again, retry once
                    if self.token == token:  # unless another lane already did
                        self.token = None
                continue
            self._envelope(r)
            return
