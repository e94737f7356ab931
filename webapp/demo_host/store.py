"""The demo apps' own storage: one JSON file, owner-only, shared by the seed and the host.

The seed registers the demo catalogue's apps and plays their part in the seeded history, so it
writes what the apps would keep: each app's client credentials, the tokens of its connections,
the alerts it has reported and how its health endpoint answers. The host reads and updates the
same file. Every change is a read-modify-write under an exclusive lock on a sidecar lock file,
written atomically (a temporary file renamed over the old one), so the seed and the host's
threads never lose each other's changes.

Layout:
  apps:        {slug: {name, install_level, client_id, client_secret}}
  connections: {slug: {key: {workspace, user, access_token, refresh_token, expires_at, scope,
                             connected_at}}}   key: the workspace, or workspace/user for user-level
  reported:    {slug: {workspace: [alert keys the app reported and has not resolved]}}
  health:      {slug: "healthy" | "failing" | "timing-out"}
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

HEALTH_MODES = ("healthy", "failing", "timing-out")
SECTIONS = ("apps", "connections", "reported", "health")


def connection_key(workspace: str, user: str | None, install_level: str) -> str:
    """User-level apps keep one connection per user; the others one per workspace."""
    return f"{workspace}/{user}" if install_level == "user" and user else workspace


def token_record(workspace: str, user: str | None, access_token: str, refresh_token: str | None,
                 expires_in: int, scope: str, now: datetime | None = None) -> dict:
    now = now or datetime.now(timezone.utc)
    return {"workspace": workspace, "user": user, "access_token": access_token,
            "refresh_token": refresh_token, "scope": scope,
            "expires_at": (now + timedelta(seconds=int(expires_in))).isoformat(),
            "connected_at": now.isoformat()}


class DemoAppsFile:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def read(self) -> dict:
        with self._locked():
            return self._load()

    @contextmanager
    def update(self) -> Iterator[dict]:
        """Yields the data to change in place; written back when the block ends without error."""
        with self._locked():
            data = self._load()
            yield data
            self._write(data)

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        for section in SECTIONS:
            data.setdefault(section, {})
        return data

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _write(self, data: dict) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".demo-apps-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
