"""The app log: one append-only row per change of state or status."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.app import App
from webapp.database import UTCDateTime, one_of, utcnow
from webapp.models.workspace import User

# code -> label shown in the log, its filter and the CSV export
ACTIVITIES = {
    "installed": "Installed",
    "uninstalled": "Uninstalled",
    "reinstalled": "Reinstalled",
    "reconnected": "Reconnected",
    "disconnected": "Disconnected",
    "reauthenticated": "Re-authenticated",
    "sync_on": "Sync turned on",
    "sync_off": "Sync turned off",
    "expired": "Expired",
    "error": "Error",
    "resolved": "Resolved",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(db.Model):
    __tablename__ = "events"
    # Every log query is scoped to a workspace and ordered by (occurred_at, id) descending;
    # one index per filter keeps each filter a range scan in keyset order. The other filters'
    # columns trail each index so combined filters are checked in the index, not row by row.
    __table_args__ = (
        Index("ix_events_workspace_time", "workspace_id", "occurred_at", "id"),
        Index("ix_events_workspace_activity_time", "workspace_id", "activity", "occurred_at", "id",
              "app_id", "actor_id"),
        Index("ix_events_workspace_app_time", "workspace_id", "app_id", "occurred_at", "id",
              "activity", "actor_id"),
        Index("ix_events_workspace_actor_time", "workspace_id", "actor_id", "occurred_at", "id",
              "activity", "app_id"),
        one_of("activity", ACTIVITIES),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when no user did: the app itself (it reported or revoked something) when true,
    # otherwise the console (the system).
    actor_app: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    activity: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    app: Mapped[App] = relationship()
    actor: Mapped[User | None] = relationship()
