"""The notification center: a user's in-app notifications, unread count and marking read."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import InAppNotification, User
from webapp.services.errors import NotFound

PAGE = 50


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(InAppNotification.id)).where(
        InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None))) or 0


def recent(session: Session, user: User, limit: int = PAGE) -> list[InAppNotification]:
    return list(session.scalars(
        select(InAppNotification).where(InAppNotification.user_id == user.id)
        .order_by(InAppNotification.created_at.desc(), InAppNotification.id.desc()).limit(limit)))


def get_own(session: Session, user: User, notification_id: int) -> InAppNotification:
    """The user's own notification; NotFound for anyone else's."""
    notification = session.scalar(select(InAppNotification).where(
        InAppNotification.id == notification_id, InAppNotification.user_id == user.id))
    if notification is None:
        raise NotFound("This notification does not exist.")
    return notification


def mark_read(session: Session, notification: InAppNotification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(session: Session, user: User) -> int:
    result = session.execute(
        update(InAppNotification)
        .where(InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
