"""Writing the app log. Callers write an event in the same transaction as the change it records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import ACTIVITIES, Event, Installation
from webapp.database import utcnow


def record_event(session: Session, installation: Installation, activity: str, actor_id: int | None,
                 details: dict | None = None, occurred_at: datetime | None = None,
                 actor_app: bool = False) -> Event:
    """`actor_id` None is the system, or the app itself when `actor_app` is true."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    event = Event(workspace_id=installation.workspace_id, app_id=installation.app_id,
                  actor_id=actor_id, actor_app=actor_app and actor_id is None, activity=activity,
                  occurred_at=occurred_at or utcnow(), details=details or {})
    session.add(event)
    return event
