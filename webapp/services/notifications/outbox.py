"""The outbox: delivery rows are written first, then queued, then claimed and sent exactly once.

Guarantees, and their one limit:
- Rows are committed before any job is enqueued; if Redis is down they wait as "pending" and the
  relay enqueues them once it answers, so an outage delays messages and loses none.
- A job claims its row with one conditional UPDATE; a row already sent, or being sent under a
  live lease, is skipped, so a second scheduler, a re-run job or a retried job never re-sends it.
- A worker killed while sending leaves its row "sending"; when the lease expires the relay queues
  it again and another worker sends it. If the kill fell between the SMTP server accepting the
  message and the database recording it, that message arrives twice: at most one duplicate per
  killed worker, recognisable by the same Message-ID (derived from the delivery key).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import Delivery
from webapp.services.notifications.channels import (PermanentDeliveryError,
                                                    TransientDeliveryError, channel_for)
from webapp.services.notifications.digest import ClosedWindow, close_due_windows

log = logging.getLogger(__name__)

# Longer than a send job may run (JOB_TIMEOUT), so a live worker never loses its claim.
LEASE = timedelta(seconds=120)
JOB_TIMEOUT = 60
# The normal path enqueues right after commit; the relay leaves younger rows to it.
RELAY_MIN_AGE = timedelta(seconds=5)
# Longer than RQ's last retry interval: a "queued" row this old lost its job (Redis flushed).
STALE_QUEUED = timedelta(minutes=30)
MAX_ATTEMPTS = 8
RETRY_INTERVALS = (10, 30, 60, 300, 900)
BATCH = 1000
SEND_JOB = "worker.jobs.send_delivery"


def enqueue_deliveries(session: Session, ids: list[int]) -> int:
    """Queues one send job per delivery; returns how many were queued (0 when Redis is down)."""
    if not ids:
        return 0
    from rq import Queue, Retry

    from webapp.services.queue import queue

    intervals = list(current_app.config.get("NOTIFICATION_RETRY_INTERVALS", RETRY_INTERVALS))
    try:
        target = queue()
        target.enqueue_many([
            Queue.prepare_data(SEND_JOB, args=(delivery_id,), timeout=JOB_TIMEOUT,
                               retry=Retry(max=len(intervals), interval=intervals),
                               description=f"send delivery {delivery_id}")
            for delivery_id in ids])
    except RedisError as error:
        log.warning("Redis unavailable, %d deliveries wait for the relay: %s", len(ids), error)
        return 0
    now = utcnow()
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), _relayable(now, min_age=timedelta(0)))
        .values(status="queued", enqueued_at=now)
        .execution_options(synchronize_session=False))
    session.commit()
    return len(ids)


def _relayable(now: datetime, min_age: timedelta):
    return or_(
        and_(Delivery.status == "pending", Delivery.created_at <= now - min_age),
        and_(Delivery.status == "queued", Delivery.enqueued_at < now - STALE_QUEUED),
        and_(Delivery.status == "sending", Delivery.claimed_at < now - LEASE),
    )


def relay(session: Session, now: datetime | None = None, min_age: timedelta = RELAY_MIN_AGE) -> int:
    """Queues rows that missed their job: never queued, lost by Redis, or claimed by a dead worker."""
    now = now or utcnow()
    session.execute(
        update(Delivery)
        .where(Delivery.status == "sending", Delivery.claimed_at < now - LEASE,
               Delivery.attempts >= MAX_ATTEMPTS)
        .values(status="failed", last_error=f"Gave up after {MAX_ATTEMPTS} attempts.")
        .execution_options(synchronize_session=False))
    session.commit()
    queued, last_id = 0, 0
    while True:
        ids = list(session.scalars(select(Delivery.id)
                                   .where(Delivery.id > last_id, _relayable(now, min_age))
                                   .order_by(Delivery.id).limit(BATCH)))
        session.commit()
        if not ids:
            return queued
        added = enqueue_deliveries(session, ids)
        if not added:
            return queued
        queued += added
        last_id = ids[-1]


def enqueue_window(session: Session, rule_id: int, window_start: datetime) -> int:
    ids = list(session.scalars(select(Delivery.id).where(
        Delivery.rule_id == rule_id, Delivery.window_start == window_start,
        Delivery.status == "pending").order_by(Delivery.id)))
    session.commit()
    return sum(enqueue_deliveries(session, ids[i:i + BATCH]) for i in range(0, len(ids), BATCH))


@dataclass
class SendDueReport:
    relayed: int = 0
    windows: list[ClosedWindow] = field(default_factory=list)

    @property
    def deliveries(self) -> int:
        return sum(w.deliveries for w in self.windows)


def send_due(session: Session, at: datetime | None = None) -> SendDueReport:
    """What `notifications send-due` and the scheduler run: relay leftovers, close due windows."""
    report = SendDueReport(relayed=relay(session))
    report.windows = close_due_windows(
        session, at or utcnow(),
        on_window_committed=lambda rule_id, start: enqueue_window(session, rule_id, start))
    return report


def deliver(session: Session, delivery_id: int, may_retry: bool = False) -> str:
    """Claims the delivery and sends it once. Returns sent / failed / skipped.

    A transient error with retries left puts the row back to "queued" and re-raises, so RQ's
    Retry runs the job again later; without retries left the delivery is marked failed.
    """
    now = utcnow()
    claim = (update(Delivery)
             .where(Delivery.id == delivery_id,
                    or_(Delivery.status.in_(("pending", "queued")),
                        and_(Delivery.status == "sending", Delivery.claimed_at < now - LEASE)))
             .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1)
             .execution_options(synchronize_session=False))
    if session.execute(claim).rowcount != 1:
        session.rollback()
        return "skipped"
    session.commit()
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    try:
        channel_for(delivery.channel, session).send(delivery)
        delivery.status, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
        session.commit()
        return "sent"
    except IntegrityError:
        # Another worker already wrote this in-app notification: the delivery is done.
        session.rollback()
        _finish(session, delivery_id, "sent", None)
        return "sent"
    except PermanentDeliveryError as error:
        session.rollback()
        _finish(session, delivery_id, "failed", str(error))
        return "failed"
    except Exception as error:  # transient, or a bug: retried like a transient error
        session.rollback()
        message = str(error) if isinstance(error, TransientDeliveryError) else f"{type(error).__name__}: {error}"
        _finish(session, delivery_id, "queued" if may_retry else "failed", message)
        if may_retry:
            raise
        return "failed"


def _finish(session: Session, delivery_id: int, status: str, error: str | None) -> None:
    values = {"status": status, "last_error": error[:500] if error else None}
    if status == "sent":
        values["sent_at"] = utcnow()
    session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "sending")
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()
