"""Fixtures for notification tests: an SMTP sink on loopback, the RQ queue, a burst worker."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from flask import current_app
from rq import Queue

from webapp.extensions import QUEUE_NAMES, db, redis_connection
from webapp.services.notifications.settings import NotificationSettings
from tests.conftest import make_app, make_installation


def app_settings() -> NotificationSettings:
    """The settings the command line and the worker's jobs hand the notification services: the
    current app's config as it is now (smtp_sink and rq_queue change it)."""
    return NotificationSettings.from_config(current_app.config)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SinkHandler:
    """Collects accepted messages; `replies` scripts answers (e.g. ["451 ...", "250 OK"])."""

    messages: list = field(default_factory=list)
    replies: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            reply = self.replies.pop(0) if self.replies else "250 Message accepted"
            if reply.startswith("250"):
                self.messages.append(envelope)
        return reply


class SmtpSink:
    def __init__(self):
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        from email import message_from_bytes, policy

        with self.handler.lock:
            return [message_from_bytes(e.content, policy=policy.default) for e in self.handler.messages]

    def reply_with(self, *replies: str) -> None:
        self.handler.replies.extend(replies)


@pytest.fixture
def smtp_sink(app, monkeypatch):
    sink = SmtpSink()
    sink.controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", sink.port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "SMTP_USERNAME", None)
    yield sink
    sink.controller.stop()


@pytest.fixture
def rq_queue(app, session, monkeypatch):
    """The test Redis database's queue, emptied before and after; retries without waiting.

    It shares the `session` fixture's app context, so the test's session stays the only one.
    """
    monkeypatch.setitem(app.config, "NOTIFICATION_RETRY_INTERVALS", [0, 0, 0, 0, 0])
    app.extensions.pop("redis", None)
    connection = redis_connection()
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    for q in queues:
        q.empty()
    yield queues[0]
    for q in queues:
        q.empty()
    app.extensions.pop("redis", None)


def run_worker(app, connection=None) -> None:
    """A burst run of the real worker class (forks a work horse per job, like production)."""
    from worker.runner import AppWorker

    with app.app_context():
        connection = connection or redis_connection()
        queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
        db.session.remove()
        AppWorker(queues, connection=connection, app=app).work(burst=True, with_scheduler=False)


@pytest.fixture
def crm(session, people):
    """An installed app in Acme."""
    app = make_app(session, "crm-sync", name="CRM Sync")
    installation = make_installation(session, people["acme"], app, people["admin"])
    session.commit()
    return installation


class PrivateRedis:
    """A redis-server of the test's own, on a free port of 6391-6399; never the shared one."""

    def __init__(self, tmp_path):
        import subprocess  # noqa: F401  (used by start)

        self.dir = tmp_path
        self.port = next(p for p in range(6391, 6400) if _port_is_free(p))
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import subprocess
        import time

        from redis import Redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                probe.ping()
                return self
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def private_app(app, private_redis, monkeypatch):
    """The same database as `app`, with Redis at the private server (as a second process would)."""
    from webapp import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "REDIS_URL": private_redis.url, "PUBLIC_URL": "http://localhost",
                        "SMTP_HOST": app.config["SMTP_HOST"], "SMTP_PORT": app.config["SMTP_PORT"],
                        "NOTIFICATION_RETRY_INTERVALS": [0, 0, 0, 0, 0]})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
