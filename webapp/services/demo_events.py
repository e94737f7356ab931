"""Generated log events for the demo workspace: a believable mix, bulk-inserted fast.

A million rows must load in well under two minutes on SQLite, so rows go to the driver's
executemany as plain tuples: no ORM objects and no per-row type processing. Times are converted
once per row with the dialect's own DateTime bind processor, so they are stored exactly as the
UTCDateTime columns store them, and the few distinct `details` values are serialised once.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Session

from webapp.models import Event, Installation, User, Workspace

LOG_DAYS = 90
CHUNK_SIZE = 20_000
# Relative frequency of each activity: sync toggles and re-authentications are everyday work,
# installs and uninstalls are rarer.
ACTIVITY_WEIGHTS = {"sync_on": 20, "sync_off": 16, "reauthenticated": 16, "disconnected": 14,
                    "reconnected": 13, "installed": 8, "reinstalled": 7, "uninstalled": 6}
# Share of each activity done by the system (no actor): disconnects mostly come from the app side.
SYSTEM_SHARE = {"disconnected": 0.6, "reconnected": 0.2}
DEFAULT_SYSTEM_SHARE = 0.02
DISCONNECT_REASONS = ("refresh token revoked by the app", "refresh refused", "disconnected by an admin")
COLUMNS = ("workspace_id", "app_id", "actor_id", "activity", "occurred_at", "details")


def insert_generated_events(session: Session, workspace: Workspace, installations: list[Installation],
                            users: list[User], count: int, now: datetime, random_seed: int = 2026) -> int:
    """Inserts `count` events over the past LOG_DAYS days about the workspace's installed (or
    uninstalled) apps, by its users or the system, oldest first so that ids follow time as in
    a real append-only log. Returns how many were inserted."""
    if count <= 0 or not installations:
        return 0
    rng = random.Random(random_seed)
    connection = session.connection()
    to_db_time = (DateTime().dialect_impl(connection.dialect).bind_processor(connection.dialect)
                  or (lambda value: value))
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {Event.__tablename__} ({', '.join(COLUMNS)}) "
                 f"VALUES ({', '.join([marker] * len(COLUMNS))})")

    apps = [(i.app.id, [s["key"] for s in i.app.sync_settings], i.app.all_scopes[-1:])
            for i in installations]
    syncing = [app for app in apps if app[1]] or apps
    activities = rng.choices(list(ACTIVITY_WEIGHTS), weights=list(ACTIVITY_WEIGHTS.values()), k=count)
    chosen_apps = rng.choices(apps, k=count)
    actor_weights = [3 if u.role == "super_admin" else 4 if u.role == "admin" else 2 for u in users]
    actors = rng.choices([u.id for u in users], weights=actor_weights, k=count)
    system = [rng.random() for _ in range(count)]
    span = LOG_DAYS * 86400 - 3600
    offsets = sorted(rng.randrange(span) for _ in range(count))
    start = (now - timedelta(days=LOG_DAYS)).astimezone(timezone.utc).replace(tzinfo=None,
                                                                               microsecond=0)
    details_json: dict = {}

    def details(key) -> str:
        if key not in details_json:
            details_json[key] = json.dumps(dict([key]) if key else {})
        return details_json[key]

    rows: list[tuple] = []
    inserted = 0
    for activity, app, actor_id, roll, offset in zip(activities, chosen_apps, actors, system, offsets):
        if activity in ("sync_on", "sync_off") and not app[1]:
            app = syncing[offset % len(syncing)]
            if not app[1]:
                activity = "reauthenticated"
        if roll < SYSTEM_SHARE.get(activity, DEFAULT_SYSTEM_SHARE):
            actor_id = None
        if activity in ("sync_on", "sync_off"):
            key = ("setting", app[1][offset % len(app[1])])
        elif activity == "reauthenticated":
            key = ("scopes", tuple(app[2]))
        elif activity == "disconnected":
            key = ("reason", DISCONNECT_REASONS[2] if actor_id else DISCONNECT_REASONS[offset % 2])
        else:
            key = None
        rows.append((workspace.id, app[0], actor_id, activity,
                     to_db_time(start + timedelta(seconds=offset)), details(key)))
        if len(rows) >= CHUNK_SIZE:
            inserted += _insert(connection, statement, rows)
            rows = []
    if rows:
        inserted += _insert(connection, statement, rows)
    return inserted


def _insert(connection, statement: str, rows: list[tuple]) -> int:
    connection.exec_driver_sql(statement, rows)
    return len(rows)
