"""The outbox: delivery rows are written first, then queued, then claimed and sent exactly once.

Guarantees, and their one limit:
- Rows are committed before any job is enqueued; if Redis is down they wait as "pending" and the
  relay enqueues them once it answers, so an outage delays messages and loses none.
- A job claims its rows with one conditional UPDATE; a row already sent, or being sent under a
  live lease, is skipped, so a second scheduler, a re-run job or a retried job never re-sends it.
- A send job claims its batch of rows and records each row as sent as soon as the SMTP server
  has accepted it. A worker killed mid-batch leaves the rest "sending"; when the lease expires
  the relay queues them again and another worker sends them. If the kill fell between the SMTP
  server accepting a message and the database recording it, that one message arrives twice:
  at most one duplicate per killed worker, recognisable by its Message-ID (derived from the
  delivery key, so both copies carry the same one).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.database import utcnow
from webapp.models import Delivery
from webapp.services.notifications.channels import (PermanentDeliveryError, ServerUnavailable,
                                                    TransientDeliveryError, channel_for)
from webapp.services.notifications.digest import ClosedWindow, close_due_windows
from webapp.services.notifications.settings import NotificationSettings

log = logging.getLogger(__name__)

# Longer than a send job may run (JOB_TIMEOUT), so a live worker never loses its claim.
LEASE = timedelta(seconds=180)
JOB_TIMEOUT = 150
# The normal path enqueues right after commit; the relay leaves younger rows to it.
RELAY_MIN_AGE = timedelta(seconds=5)
# Longer than RQ's last retry interval: a "queued" row this old lost its job (Redis flushed).
STALE_QUEUED = timedelta(minutes=30)
MAX_ATTEMPTS = 8
BATCH = 1000
# Deliveries per send job: one claim, one SMTP connection and one forked work horse per job.
JOB_SIZE = 200
SEND_JOB = "worker.jobs.send_deliveries"


def enqueue_deliveries(session: Session, settings: NotificationSettings, queue: Queue,
                       ids: list[int]) -> int:
    """Queues send jobs for the deliveries; returns how many were queued (0 when Redis is down)."""
    if not ids:
        return 0
    intervals = list(settings.retry_intervals)
    try:
        chunks = [ids[i:i + JOB_SIZE] for i in range(0, len(ids), JOB_SIZE)]
        queue.enqueue_many([
            Queue.prepare_data(SEND_JOB, args=(chunk,), timeout=JOB_TIMEOUT,
                               retry=Retry(max=len(intervals), interval=intervals),
                               description=f"send deliveries {chunk[0]}..{chunk[-1]}")
            for chunk in chunks])
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


def relay(session: Session, settings: NotificationSettings, queue: Queue,
          now: datetime | None = None, min_age: timedelta = RELAY_MIN_AGE) -> int:
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
        added = enqueue_deliveries(session, settings, queue, ids)
        if not added:
            return queued
        queued += added
        last_id = ids[-1]


def enqueue_window(session: Session, settings: NotificationSettings, queue: Queue,
                   rule_id: int, window_start: datetime) -> int:
    ids = list(session.scalars(select(Delivery.id).where(
        Delivery.rule_id == rule_id, Delivery.window_start == window_start,
        Delivery.status == "pending").order_by(Delivery.id)))
    session.commit()
    queued = 0
    for i in range(0, len(ids), BATCH):
        added = enqueue_deliveries(session, settings, queue, ids[i:i + BATCH])
        if not added:  # Redis is down: the rest waits for the relay too
            break
        queued += added
    return queued


@dataclass
class SendDueReport:
    relayed: int = 0
    windows: list[ClosedWindow] = field(default_factory=list)

    @property
    def deliveries(self) -> int:
        return sum(w.deliveries for w in self.windows)


def send_due(session: Session, settings: NotificationSettings, queue: Queue,
             at: datetime | None = None) -> SendDueReport:
    """What `notifications send-due` and the scheduler run: relay leftovers, close due windows."""
    report = SendDueReport(relayed=relay(session, settings, queue))
    report.windows = close_due_windows(
        session, settings.links, at or utcnow(),
        on_window_committed=lambda rule_id, start: enqueue_window(session, settings, queue,
                                                                  rule_id, start))
    return report


def _claim(session: Session, ids: list[int]) -> list[int]:
    now = utcnow()
    claimed = session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(ids),
               or_(Delivery.status.in_(("pending", "queued")),
                   and_(Delivery.status == "sending", Delivery.claimed_at < now - LEASE)))
        .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)).all()
    session.commit()
    return sorted(claimed)


def deliver_many(session: Session, settings: NotificationSettings, ids: list[int],
                 may_retry: bool = False) -> dict[str, list[int]]:
    """Claims the deliveries still to send (one UPDATE) and sends each, committing each result.

    Rows already sent, failed, or claimed under a live lease are skipped. A transient error with
    retries left puts its row back to "queued" and, once the batch is done, raises so that RQ's
    Retry runs the job again (the retry finds only those rows still to send); without retries
    left the row is marked failed. Permanent errors mark the row failed at once.
    """
    outcome: dict[str, list[int]] = {"sent": [], "failed": [], "queued": [], "skipped": []}
    claimed = _claim(session, ids)
    outcome["skipped"] = [i for i in ids if i not in set(claimed)]
    # Plain copies: they stay readable across the per-delivery commits below.
    rows = [DeliveryToSend.of(row) for row in session.scalars(
        select(Delivery).where(Delivery.id.in_(claimed))
        .options(joinedload(Delivery.recipient)).order_by(Delivery.id)).unique()]
    session.commit()
    channels: dict[str, object] = {}
    transient: list[str] = []
    unavailable: str | None = None
    try:
        for delivery in rows:
            delivery_id = delivery.id
            if unavailable:  # the server is down: the rest of the batch waits for the retry
                status, error = "transient", unavailable
            else:
                status, error = _send_one(session, settings, delivery, channels)
                if status == "unavailable":
                    status, unavailable = "transient", error
            if status == "transient":
                status = "queued" if may_retry else "failed"
                transient.append(error)
            if status != "sent":
                _finish(session, delivery_id, status, error)
            outcome[status].append(delivery_id)
    finally:
        for channel in channels.values():
            channel.close()
    if transient and may_retry:
        raise TransientDeliveryError(f"{len(transient)} deliveries will be retried: {transient[-1]}")
    return outcome


@dataclass(frozen=True)
class Recipient:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class DeliveryToSend:
    """What a channel needs of a claimed delivery, read once per batch."""

    id: int
    workspace_id: int
    rule_id: int
    recipient_id: int
    channel: str
    window_start: datetime
    payload: dict
    recipient: Recipient

    @classmethod
    def of(cls, row: Delivery) -> "DeliveryToSend":
        person = row.recipient
        return cls(row.id, row.workspace_id, row.rule_id, row.recipient_id, row.channel,
                   row.window_start, row.payload, Recipient(person.id, person.name, person.email))


def _send_one(session: Session, settings: NotificationSettings, delivery: DeliveryToSend,
              channels: dict) -> tuple[str, str | None]:
    delivery_id = delivery.id
    try:
        if delivery.channel not in channels:
            channels[delivery.channel] = channel_for(delivery.channel, session, settings)
        channels[delivery.channel].send(delivery)
        # Recorded at once: a worker killed later in the batch re-sends nothing before this.
        _finish(session, delivery_id, "sent", None)
        return "sent", None
    except IntegrityError:
        # Another worker already wrote this in-app notification: the delivery is done.
        session.rollback()
        _finish(session, delivery_id, "sent", None)
        return "sent", None
    except PermanentDeliveryError as error:
        session.rollback()
        return "failed", str(error)
    except ServerUnavailable as error:
        session.rollback()
        return "unavailable", str(error)
    except TransientDeliveryError as error:
        session.rollback()
        return "transient", str(error)
    except Exception as error:  # a bug or an outage: retried like a transient error
        session.rollback()
        log.exception("delivery %s could not be sent", delivery_id)
        return "transient", f"{type(error).__name__}: {error}"


def _finish(session: Session, delivery_id: int, status: str, error: str | None) -> None:
    values = {"status": status, "last_error": error[:500] if error else None}
    if status == "sent":
        values["sent_at"] = utcnow()
    session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "sending")
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()
