"""A WSGI app served on a free port of 127.0.0.1 in a thread: the console, or an app beside it,
answering real HTTP requests from another server or a requests session playing the browser."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LiveServer:
    """The app may be set after binding (when it needs to know its own URL)."""

    def __init__(self, wsgi_app=None):
        self.wsgi_app = wsgi_app
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __call__(self, environ, start_response):
        return self.wsgi_app(environ, start_response)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
