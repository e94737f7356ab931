"""Alerts: open problems of an installation, from three sources (token, health, app).

Opening an alert writes one "Error" event, resolving it one "Resolved" event, in the caller's
transaction; a repeat of an open alert only bumps its last seen time and count. Functions flush
but never commit.

Status follows the alerts: an installation with at least one open alert and no worse status
(disconnected, expired) is in error; when its last alert resolves it is connected again.
Expiry and reconnection open or resolve the token alert as part of their own event (Expired,
Reconnected), so that one change of status writes one event: see open_quietly/resolve_quietly.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import Alert, ExternalAccount, Installation
from webapp.models.installation import ALERT_SOURCES
from webapp.services.errors import NotFound
from webapp.services.events import record_event

TITLE_LENGTH = 200
DETAIL_LENGTH = 2000
# Statuses worse than error: alerts neither set nor clear them.
WORSE_THAN_ERROR = ("disconnected", "expired")


def lock(session: Session, installation: Installation) -> None:
    """Alert changes of one installation queue behind each other, so that a concurrent repeat
    bumps the alert instead of opening a second one. SQLite has no row locks: a write that
    changes nothing takes its database lock before anything is read."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Installation).where(Installation.id == installation.id)
                        .values(updated_at=Installation.updated_at)
                        .execution_options(synchronize_session=False))
    else:
        session.execute(select(Installation.id).where(Installation.id == installation.id)
                        .with_for_update())
    # The installation may have been loaded before another transaction changed it (a probe round
    # loads every installation first; an admin may disconnect one meanwhile): decide on its
    # state and status as they are now that it is ours.
    session.refresh(installation, attribute_names=["state", "status"])


def find_open(session: Session, installation: Installation, source: str, key: str
              ) -> Alert | None:
    return session.scalar(
        select(Alert).where(Alert.workspace_id == installation.workspace_id,
                            Alert.installation_id == installation.id, Alert.source == source,
                            Alert.key == key, Alert.resolved_at.is_(None))
        .execution_options(populate_existing=True))


def has_open_alerts(session: Session, installation: Installation) -> bool:
    return bool(session.scalar(select(exists().where(
        Alert.installation_id == installation.id, Alert.resolved_at.is_(None)))))


def settle_status(session: Session, installation: Installation) -> None:
    """Error while an alert is open, connected otherwise; disconnected and expired stay."""
    if installation.status in WORSE_THAN_ERROR:
        return
    session.flush()
    installation.status = "error" if has_open_alerts(session, installation) else "connected"


def _check(source: str, title: str, detail: str | None) -> None:
    if source not in ALERT_SOURCES:
        raise ValueError(f"unknown alert source {source!r}")
    if not title or len(title) > TITLE_LENGTH or (detail is not None
                                                   and len(detail) > DETAIL_LENGTH):
        raise ValueError("alert title or detail out of bounds")


def _why(alert: Alert) -> dict:
    details = {"reason": alert.title, "source": alert.source, "key": alert.key}
    if alert.external_account_id is not None:
        details["external_account_id"] = alert.external_account_id
    return details


def open_quietly(session: Session, installation: Installation, source: str, key: str,
                 title: str, detail: str | None = None, now: datetime | None = None,
                 account: ExternalAccount | None = None) -> tuple[Alert, bool]:
    """Opens (or bumps) an alert without writing an event or changing status: for a caller whose
    own event records the change. Returns the alert and whether it was opened now."""
    _check(source, title, detail)
    now = now or utcnow()
    lock(session, installation)
    alert = find_open(session, installation, source, key)
    if alert is not None:
        alert.title, alert.detail = title, detail
        alert.last_seen = max(alert.last_seen, now)
        alert.count += 1
        session.flush()
        return alert, False
    alert = Alert(workspace_id=installation.workspace_id, installation_id=installation.id,
                  source=source, key=key, title=title, detail=detail,
                  external_account_id=account.id if account is not None else None,
                  first_seen=now, last_seen=now, count=1)
    session.add(alert)
    session.flush()
    return alert, True


def open_or_bump(session: Session, installation: Installation, source: str, key: str,
                 title: str, detail: str | None = None, now: datetime | None = None,
                 account: ExternalAccount | None = None) -> tuple[Alert, bool]:
    """Opens the alert `key` of `source`, or, when it is open already, updates its title and
    detail and bumps it. Opening writes one Error event (actor: the app for app-reported alerts,
    the system otherwise) and may set the status to error. Returns (alert, opened)."""
    now = now or utcnow()
    alert, opened = open_quietly(session, installation, source, key, title, detail, now, account)
    if opened:
        record_event(session, installation, "error", None, _why(alert), occurred_at=now,
                     actor_app=source == "app")
        settle_status(session, installation)
        session.flush()
    return alert, opened


def resolve_quietly(session: Session, installation: Installation, source: str | None = None,
                    now: datetime | None = None) -> list[Alert]:
    """Resolves every open alert of `source` (every source when None) without an event: for
    a caller whose own event records it (Reconnected, Uninstalled). Returns what it resolved."""
    now = now or utcnow()
    lock(session, installation)
    query = select(Alert).where(Alert.workspace_id == installation.workspace_id,
                                Alert.installation_id == installation.id,
                                Alert.resolved_at.is_(None)).order_by(Alert.id)
    if source is not None:
        query = query.where(Alert.source == source)
    resolved = list(session.scalars(query.execution_options(populate_existing=True)))
    for alert in resolved:
        alert.resolved_at = now
    session.flush()
    return resolved


def resolve(session: Session, installation: Installation, source: str, key: str,
            now: datetime | None = None) -> Alert:
    """Resolves the open alert `key` of `source`: one Resolved event, and the status back to
    connected when it was the last one. NotFound when no such alert is open."""
    now = now or utcnow()
    lock(session, installation)
    alert = find_open(session, installation, source, key)
    if alert is None:
        raise NotFound(f"No open alert with the key “{key[:64]}”.", field="key")
    alert.resolved_at = now
    record_event(session, installation, "resolved", None, _why(alert), occurred_at=now,
                 actor_app=source == "app")
    settle_status(session, installation)
    session.flush()
    return alert


def resolve_if_open(session: Session, installation: Installation, source: str, key: str,
                    now: datetime | None = None) -> Alert | None:
    """resolve() for callers to whom "nothing was open" is fine (a probe that succeeds)."""
    if find_open(session, installation, source, key) is None:
        return None
    return resolve(session, installation, source, key, now)


def as_json(alert: Alert) -> dict:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value is not None else None

    return {"key": alert.key, "source": alert.source, "title": alert.title,
            "detail": alert.detail, "first_seen": moment(alert.first_seen),
            "last_seen": moment(alert.last_seen), "count": alert.count,
            "resolved_at": moment(alert.resolved_at)}
