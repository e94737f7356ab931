"""A redis-server of its own on a free port: never the shared one, so it may be stopped and
started again (Redis going away) without touching anyone else's data."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from testsupport.ports import free_port


class RedisServer:
    def __init__(self, directory: Path):
        self.directory = directory  # its working directory; nothing is saved there
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        """Starts it (again, on the same port) and returns once it answers PING."""
        from redis import Redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                probe.ping()
                return self
            except Exception:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
