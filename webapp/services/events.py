"""Writing the app log. Callers write an event in the same transaction as the change it records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import ACTIVITIES, Event, Installation
from webapp.database import utcnow


def record_event(session: Session, installation: Installation, activity: str, actor_id: int | None,
                 details: dict | None = None, occurred_at: datetime | None = None) -> Event:
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    event = Event(workspace_id=installation.workspace_id, app_id=installation.app_id,
                  actor_id=actor_id, activity=activity, occurred_at=occurred_at or utcnow(),
                  details=details or {})
    session.add(event)
    return event
