"""A warning authority's web server on loopback: Atom feed of CAP links, ETag, and its failure modes."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FeedServer:
    """Serves `docs` (path -> bytes) and an Atom feed at /atom.xml listing `entries` (paths)."""

    def __init__(self):
        self.docs: dict[str, bytes] = {}
        self.entries: list[str] = []
        self.requests: list[tuple[str, str | None]] = []
        self.slow_s = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("If-None-Match")))
                if self.path == "/slow.xml":
                    time.sleep(server.slow_s)
                if self.path == "/atom.xml":
                    body, kind = server.atom(), "application/atom+xml"
                    etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.end_headers()
                        return
                elif self.path in server.docs:
                    body, kind, etag = server.docs[self.path], "application/cap+xml", None
                    if self.path.endswith(".html"):
                        kind = "text/html; charset=utf-8"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def atom(self) -> bytes:
        """The Atom feed, newest entry first, with relative links."""
        items = "".join(
            f'<entry><id>urn:test:{p}</id><title>{p}</title><updated>2000-01-01T00:00:00Z</updated>'
            f'<link rel="alternate" type="application/cap+xml" href="{p}"/></entry>'
            for p in reversed(self.entries))
        return (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<id>urn:test:feed</id><title>Cảnh báo</title><updated>2000-01-01T00:00:00Z</updated>"
                f"{items}</feed>").encode()

    def publish(self, path: str, doc: bytes) -> None:
        """Put a CAP document on the server and in the feed."""
        self.docs[path] = doc
        self.entries.append(path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
