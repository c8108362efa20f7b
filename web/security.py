"""Security headers and cookie flags for every response.

- A Content-Security-Policy with no inline script (`script-src 'self'`), so an
  injected `<script>` or `onclick=` never runs even if escaping were missed.
- `frame-ancestors 'none'` (and X-Frame-Options for old browsers): no clickjacking.
- nosniff, so an uploaded file is never run as script or style.
- Integer ids in URLs are bounded to 32 bits (the id columns are INTEGER, and PostgreSQL's
  INTEGER is 32-bit), so a huge number is a 404 rather than a crash.
- Cookies are HttpOnly and SameSite=Lax; they are Secure when the request came over
  HTTPS or when the `cookie_secure` setting says the site is behind an HTTPS proxy.
- A request without a login may carry at most `ANONYMOUS_BODY_LIMIT` bytes (a login form);
  a bigger one is refused with 413 before anything parses it. This hook runs before
  Flask-WTF's CSRF check, which reads the whole form, so an upload is never parsed for
  someone who is not logged in. (waitress caps every body at the upload limit itself.)
- A JSON body nested too deeply is a 400 naming the problem: Python's parser raises
  RecursionError (not ValueError), which every JSON endpoint turned into a 500.
"""

from __future__ import annotations

from flask import Flask, Response, abort, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",  # recording in the browser plays back a blob: URL
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
ANONYMOUS_BODY_LIMIT = 64 * 1024
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}


class BoundedInt(IntegerConverter):
    """`<int:...>` URL parts beyond an INTEGER id are a 404, not an overflow in the database."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


class JsonTooDeep(BadRequest):
    """A JSON body nested deeper than the parser can follow."""

    description = "the JSON body is nested too deeply"


class _JsonProvider(DefaultJSONProvider):
    """Flask's JSON, with too-deep nesting a 400 even where the body is read with silent=True."""

    def loads(self, s, **kwargs):
        """Parse JSON; RecursionError becomes JsonTooDeep (an HTTP error, not a ValueError)."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise JsonTooDeep() from None


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure per request when it came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        # Flask saves the session after the after_request hooks, so the header rewrite in
        # add_headers never sees its cookie; deciding here covers it.
        return super().get_cookie_secure(app) or request.is_secure


def init(app: Flask, force_secure: bool = False) -> None:
    """Set cookie flags and add the security headers to every response."""
    secure = force_secure or bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )
    app.session_interface = _SessionInterface()
    app.json = _JsonProvider(app)
    app.register_error_handler(JsonTooDeep, lambda exc: (
        jsonify(error="json_too_deep", message=exc.description), 400))
    # Found by schemathesis: /api/v1/broadcasts/9223372036854775808 crashed SQLite. Routes
    # are registered after this runs, so every <int:...> gets the bound.
    app.url_map.converters["int"] = BoundedInt
    app.after_request(add_headers)
    # First of all before_request hooks: CSRFProtect's (registered earlier) reads the form.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_anonymous_bodies)


def refuse_anonymous_bodies() -> None:
    """413 for a body bigger than a login form from someone not logged in, before it is read."""
    from flask_login import current_user

    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if (length or 0) <= ANONYMOUS_BODY_LIMIT and not chunked:
        return
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        return  # the API checks its bearer token before a view reads the body
    if current_user.is_authenticated:
        return
    abort(413, description=f"log in first: without a login a request body may be at most "
                           f"{ANONYMOUS_BODY_LIMIT // 1024} KB")


def add_headers(resp: Response) -> Response:
    """The security headers, and Secure on cookies of HTTPS requests."""
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    if request.is_secure:
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        cookies = resp.headers.getlist("Set-Cookie")
        if cookies:
            # Flask decides Secure from config once; an HTTPS request earns it per response.
            resp.headers.remove("Set-Cookie")
            for c in cookies:
                resp.headers.add("Set-Cookie", c if "; secure" in c.lower() else c + "; Secure")
    return resp
