"""RQ jobs: plain functions, run by `flask worker` inside the app's context."""
from __future__ import annotations

from rq import get_current_job

from webapp.extensions import db


def send_delivery(delivery_id: int) -> str:
    """Sends one delivery at most once (see webapp.services.notifications.outbox)."""
    from webapp.services.notifications.outbox import deliver

    job = get_current_job()
    may_retry = job is not None and bool(job.retries_left)
    return deliver(db.session, delivery_id, may_retry=may_retry)


def send_due_notifications() -> dict:
    """The scheduler's job: the same work as `flask --app wsgi notifications send-due`."""
    from webapp.services.notifications.outbox import send_due

    report = send_due(db.session)
    return {"relayed": report.relayed, "windows": len(report.windows),
            "deliveries": report.deliveries}
