"""A real HTTP server on loopback, answering as an app's endpoint might: for outgoing requests.

Paths: /ok (200), /fail (503), /status (whatever `server.status` is now), /slow (answers after
`server.delay` seconds), /redirect (302 to /ok), /huge (200 with 8 MiB), /drip (headers trickle
in one byte at a time, every 0.2 s). `server.seen` records each request's path and Host header.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes = b"ok", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        server: LocalServer = self.server.owner
        server.seen.append((self.path, self.headers.get("Host")))
        path = self.path.split("?")[0]
        if path == "/ok":
            self._answer(200)
        elif path == "/fail":
            self._answer(503, b"down")
        elif path == "/status":
            self._answer(server.status, b"as told")
        elif path == "/slow":
            time.sleep(server.delay)
            self._answer(200)
        elif path == "/redirect":
            self._answer(302, b"", {"Location": "/ok"})
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(8 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(128):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass  # the client stopped reading, as it should
        elif path == "/drip":
            try:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 200:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
        else:
            self._answer(404, b"no such path")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timed out, read enough) is what several tests want


class LocalServer:
    def __init__(self):
        self.status = 200
        self.delay = 2.0
        self.seen: list[tuple[str, str | None]] = []
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def local_server():
    with LocalServer() as server:
        yield server
