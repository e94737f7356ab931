"""Fixtures for notification tests: an SMTP sink on loopback, the RQ queue, a burst worker."""
from __future__ import annotations

import pytest
from flask import current_app
from rq import Queue

from webapp.extensions import QUEUE_NAMES, db, redis_connection
from webapp.services.notifications.settings import NotificationSettings
from testsupport.redis_server import RedisServer
from testsupport.smtp import SmtpSink
from tests.conftest import make_app, make_installation


def app_settings() -> NotificationSettings:
    """The settings the command line and the worker's jobs hand the notification services: the
    current app's config as it is now (smtp_sink and rq_queue change it)."""
    return NotificationSettings.from_config(current_app.config)


@pytest.fixture
def smtp_sink(app, monkeypatch):
    sink = SmtpSink().start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", sink.port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "SMTP_USERNAME", None)
    yield sink
    sink.stop()


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


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path).start()
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
