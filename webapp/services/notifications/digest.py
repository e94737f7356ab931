"""Closing windows: a rule's matching events of one window become one delivery row per recipient
and channel (the outbox). Sending happens later, from those rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, lazyload

from webapp.database import utcnow
from webapp.models import (ACTIVITIES, App, Delivery, Event, Installation, NotificationRule,
                           NotificationRuleApp, User, Workspace)
from webapp.models.notification import FREQUENCIES, RULE_TYPES
from webapp.services.event_details import actor_label
from webapp.services.formatting import iso_utc
from webapp.services.links import ConsoleLinks
from webapp.services.notifications.recipients import resolve_recipients
from webapp.services.notifications.windows import (closed_windows, window_label, window_start,
                                                      workspace_zone)

# Which log activities each rule type reports.
ACTIVITIES_BY_TYPE = {
    "app_install": ("installed", "reinstalled"),
    # An expired installation is disconnected until someone reconnects it.
    "app_disconnect": ("disconnected", "expired"),
    "app_uninstall": ("uninstalled",),
}
DELIVERY_KEY = ("rule_id", "recipient_id", "channel", "window_start")


@dataclass
class ClosedWindow:
    rule_id: int
    window_start: datetime
    window_end: datetime
    deliveries: int  # rows this call inserted (0 when another run already had)


def _app_filter(rule: NotificationRule, column):
    if rule.all_apps:
        return None
    return column.in_(select(NotificationRuleApp.app_id).where(NotificationRuleApp.rule_id == rule.id))


def _line(links: ConsoleLinks, kind: str, app: App, text: str,
          occurred_at: datetime | None = None, actor: str = "",
          activity: str | None = None) -> dict:
    return {"kind": kind, "activity": ACTIVITIES.get(activity, "") if activity else "",
            "app": app.name, "app_url": links.app_page(app.slug), "text": text,
            "actor": actor,
            "occurred_at": iso_utc(occurred_at) if occurred_at else ""}


def _actor(event: Event, app: App, actor: User | None) -> str:
    return actor_label(actor.name if actor else None, event.actor_app, app.name, event.details)


def _events(session: Session, rule: NotificationRule, activities, start, end):
    query = (select(Event, App, User).join(App, App.id == Event.app_id)
             .outerjoin(User, User.id == Event.actor_id)
             .where(Event.workspace_id == rule.workspace_id, Event.activity.in_(activities),
                    Event.occurred_at >= start, Event.occurred_at < end)
             .order_by(Event.occurred_at, Event.id))
    condition = _app_filter(rule, Event.app_id)
    if condition is not None:
        query = query.where(condition)
    return list(session.execute(query))


def _still_disconnected(session: Session, rule: NotificationRule, start, end, skip_app_ids):
    """Installations of the rule's apps still disconnected, that were so before the window began."""
    query = (select(Installation, App).join(App, App.id == Installation.app_id)
             .where(Installation.workspace_id == rule.workspace_id,
                    Installation.state == "installed",
                    Installation.status.in_(("disconnected", "expired")),
                    App.install_level != "multi_account")
             .order_by(App.name))
    condition = _app_filter(rule, Installation.app_id)
    if condition is not None:
        query = query.where(condition)
    rows = [(inst, app) for inst, app in session.execute(query) if app.id not in skip_app_ids]
    if not rows:
        return []
    since = dict(session.execute(
        select(Event.app_id, func.max(Event.occurred_at))
        .where(Event.workspace_id == rule.workspace_id,
               Event.activity.in_(ACTIVITIES_BY_TYPE["app_disconnect"]),
               Event.occurred_at < end, Event.app_id.in_([app.id for _, app in rows]))
        .group_by(Event.app_id)).all())
    return [(inst, app, since.get(app.id)) for inst, app in rows
            if since.get(app.id) is None or since[app.id] < start]


def build_digest(session: Session, links: ConsoleLinks, rule: NotificationRule,
                 workspace: Workspace, start: datetime, end: datetime) -> dict | None:
    """The digest of one window as data (stored as each delivery's payload), or None when empty."""
    lines = []
    matching = _events(session, rule, ACTIVITIES_BY_TYPE[rule.rule_type], start, end)
    for event, app, actor in matching:
        verb = ACTIVITIES[event.activity].lower()
        text = f"{app.name} {verb}" if event.activity == "expired" else f"{app.name} was {verb}"
        lines.append(_line(links, "event", app, text, event.occurred_at,
                           _actor(event, app, actor), event.activity))
    if rule.rule_type == "app_disconnect":
        for event, app, actor in _events(session, rule, ("reconnected",), start, end):
            lines.append(_line(links, "recovered", app,
                               f"{app.name} has recovered: it was reconnected",
                               event.occurred_at, _actor(event, app, actor), event.activity))
        listed = {event.app_id for event, _, _ in matching}
        for installation, app, since in _still_disconnected(session, rule, start, end, listed):
            text = f"{app.name} is still disconnected"
            if since is not None:
                text += f" (since {iso_utc(since)})"
            lines.append(_line(links, "reminder", app, text))
    if not lines:
        return None
    zone = workspace_zone(workspace.timezone)
    return {
        "rule_id": rule.id, "rule_name": rule.name, "rule_type": RULE_TYPES[rule.rule_type],
        "frequency": FREQUENCIES[rule.frequency],
        "window": window_label(start, end, rule.frequency, zone),
        "window_start": iso_utc(start), "window_end": iso_utc(end),
        "workspace": workspace.name, "lines": lines,
        "manage_url": links.manage_rule(rule.id),
        "notifications_url": links.notification_center(),
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> int:
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (insert(Delivery).on_conflict_do_nothing(index_elements=list(DELIVERY_KEY))
                 .returning(Delivery.id))
    # RETURNING lists only the rows inserted: duplicates of an earlier run are skipped silently.
    return len(session.scalars(statement, rows).all())


def close_window(session: Session, links: ConsoleLinks, rule: NotificationRule,
                 workspace: Workspace, start: datetime, end: datetime) -> int:
    """Writes the window's deliveries and moves the rule on; the caller commits. Returns rows added."""
    payload = build_digest(session, links, rule, workspace, start, end)
    added = 0
    if payload is not None:
        now = utcnow()
        rows = [dict(workspace_id=rule.workspace_id, rule_id=rule.id, recipient_id=user.id,
                     channel=channel, window_start=start, window_end=end, status="pending",
                     attempts=0, payload=payload, created_at=now)
                for user in resolve_recipients(session, rule) for channel in rule.channels]
        added = _insert_ignoring_duplicates(session, rows)
    rule.evaluated_until = end
    return added


def _lock_rule(session: Session, rule_id: int) -> NotificationRule | None:
    query = (select(NotificationRule).where(NotificationRule.id == rule_id)
             .options(lazyload(NotificationRule.created_by)))
    if session.get_bind().dialect.name == "postgresql":
        # A second scheduler skips a rule being evaluated instead of waiting for it.
        query = query.with_for_update(skip_locked=True, of=NotificationRule)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def close_due_windows(session: Session, links: ConsoleLinks, at: datetime,
                      on_window_committed=None) -> list[ClosedWindow]:
    """Closes, in order, every window of every rule that has ended by `at`; one commit per window.

    `on_window_committed(rule_id, window_start)` runs after each commit (to enqueue its sending).
    """
    closed: list[ClosedWindow] = []
    rule_ids = list(session.scalars(select(NotificationRule.id).order_by(NotificationRule.id)))
    session.commit()
    for rule_id in rule_ids:
        while True:
            rule = _lock_rule(session, rule_id)
            if rule is None:
                session.rollback()
                break
            workspace = session.get(Workspace, rule.workspace_id)
            zone = workspace_zone(workspace.timezone)
            start = rule.evaluated_until or window_start(rule.created_at, rule.frequency, zone)
            window = next(closed_windows(start, rule.frequency, zone, at), None)
            if window is None:
                session.rollback()
                break
            added = close_window(session, links, rule, workspace, *window)
            session.commit()
            closed.append(ClosedWindow(rule_id, window[0], window[1], added))
            if added and on_window_committed is not None:
                on_window_committed(rule_id, window[0])
    return closed
