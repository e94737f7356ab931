"""RQ jobs: plain functions, run by `flask worker` inside the app's context.

They are a boundary of the services: each reads what it needs of the app's settings and hands
it, with the queue or the Redis connection, to the services.
"""
from __future__ import annotations

from flask import current_app
from rq import get_current_job

from webapp.database import utcnow
from webapp.extensions import db, redis_connection, work_queue
from webapp.services.expiry import expire_refresh_tokens
from webapp.services.health_probes import run_health_probes
from webapp.services.notifications.outbox import deliver_many, send_due
from webapp.services.notifications.settings import NotificationSettings
from webapp.services.usage import fold_usage as fold


def _may_retry() -> bool:
    job = get_current_job()
    return job is not None and bool(job.retries_left)


def _settings() -> NotificationSettings:
    return NotificationSettings.from_config(current_app.config)


def send_deliveries(delivery_ids: list[int]) -> dict:
    """Sends a batch of deliveries, each at most once (see webapp.services.notifications.outbox)."""
    outcome = deliver_many(db.session, _settings(), list(delivery_ids), may_retry=_may_retry())
    return {status: len(ids) for status, ids in outcome.items()}


def send_due_notifications() -> dict:
    """The scheduler's job: the same work as `flask --app wsgi notifications send-due`."""
    report = send_due(db.session, _settings(), work_queue())
    return {"relayed": report.relayed, "windows": len(report.windows),
            "deliveries": report.deliveries}


def expire_tokens() -> dict:
    """The scheduler's hourly job: the same work as `flask --app wsgi tokens expire`."""
    report = expire_refresh_tokens(db.session, ttl_days=current_app.config["REFRESH_TOKEN_TTL"])
    db.session.commit()
    return {"tokens_ended": report.tokens_ended, "expired": len(report.expired)}


def fold_usage() -> dict:
    """The scheduler's job: the same work as `flask --app wsgi usage fold`."""
    report = fold(db.session, redis_connection(), utcnow())
    return {"batches": report.batches, "calls": report.calls, "rows": report.rows,
            "repeated": report.repeated}


def probe_health() -> dict:
    """The scheduler's job every HEALTH_PROBE_INTERVAL: the same work as `flask health probe`."""
    report = run_health_probes(db.session,
                               allow_private=current_app.config["HEALTH_PROBE_ALLOW_PRIVATE"])
    return {"probed": report.probed, "failing": report.failing, "opened": report.opened,
            "resolved": report.resolved}
