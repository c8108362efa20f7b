"""A tiny loopback HTTP server for audio files, with Range support and injectable faults."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from protocol.messages import Media


@dataclass
class Served:
    """One file and how to misbehave when serving it."""

    body: bytes
    corrupt_next: int = 0  # serve this many corrupted copies first
    requests: list[dict] = field(default_factory=list)


class MediaServer:
    """Serves registered bytes at /media/<name> on 127.0.0.1; unknown names are 404."""

    def __init__(self):
        self.files: dict[str, Served] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                served = server.files.get(name)
                if served is None:
                    self.send_error(404)
                    return
                rng = self.headers.get("Range")
                served.requests.append({"range": rng})
                body = served.body
                if served.corrupt_next > 0:
                    served.corrupt_next -= 1
                    body = bytes(b ^ 0x5A for b in body[:64]) + body[64:]
                start = 0
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                if start:
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Content-Type", "audio/mpeg")
                self.end_headers()
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        """The URL of a file name."""
        return f"http://127.0.0.1:{self.port}/media/{name}"

    def add(self, name: str, body: bytes, duration_ms: int, corrupt_next: int = 0) -> Media:
        """Serve `body` at /media/<name>; returns the Media a command should carry."""
        self.files[name] = Served(body, corrupt_next)
        return Media(url=self.url(name), sha256=hashlib.sha256(body).hexdigest(), bytes=len(body),
                     duration_ms=duration_ms)

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()
