"""Login sessions: start, find, end and list them. The raw id only ever lives in the browser's
cookie; the database holds its SHA-256, so a leaked table logs nobody in."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from webapp.models import User, UserSession

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Ended sessions are kept a while for the record, then deleted when their user next logs in.
KEEP_ENDED = timedelta(days=30)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    maximum: timedelta

    @classmethod
    def from_config(cls, config) -> Lifetimes:
        return cls(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                   maximum=timedelta(hours=config["SESSION_MAX_HOURS"]))


def hash_session_id(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


def is_session_id(value: str) -> bool:
    return bool(SESSION_ID_RE.match(value))


def is_expired(row: UserSession, now: datetime, lifetimes: Lifetimes) -> bool:
    return (now - row.last_seen_at >= lifetimes.idle
            or now - row.created_at >= lifetimes.maximum)


def start_session(session: Session, user: User, data: str, device: str,
                  now: datetime) -> tuple[str, UserSession]:
    """A new session for `user`; returns the raw id for the cookie and the row."""
    session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                              UserSession.ended_at < now - KEEP_ENDED))
    raw_id = secrets.token_urlsafe(32)
    row = UserSession(id_hash=hash_session_id(raw_id), user_id=user.id,
                      workspace_id=user.workspace_id, data=data, device=device[:120],
                      created_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return raw_id, row


def find_live_session(session: Session, raw_id: str, now: datetime,
                      lifetimes: Lifetimes) -> UserSession | None:
    """The session the cookie names, unless it ended; one that outlived its idle or absolute
    lifetime is ended here (the caller commits)."""
    if not is_session_id(raw_id):
        return None
    row = session.scalar(select(UserSession).where(UserSession.id_hash == hash_session_id(raw_id),
                                                   UserSession.ended_at.is_(None)))
    if row is not None and is_expired(row, now, lifetimes):
        end_session(row, "expired", now)
        return None
    return row


def end_session(row: UserSession, reason: str, now: datetime) -> None:
    if row.ended_at is None:
        row.ended_at = now
        row.ended_reason = reason


def end_user_sessions(session: Session, user_id: int, reason: str, now: datetime,
                      keep: int | None = None, lifetimes: Lifetimes | None = None) -> int:
    """Ends every session of the user but `keep` (a session's row id); returns how many of them
    were still live (with `lifetimes`; without, every row not ended yet counts), so that the
    number people read agrees with the "Active sessions" they saw."""
    query = (update(UserSession)
             .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
             .values(ended_at=now, ended_reason=reason))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    if lifetimes is not None:
        session.execute(query.where(or_(UserSession.created_at <= now - lifetimes.maximum,
                                        UserSession.last_seen_at <= now - lifetimes.idle))
                        .values(ended_reason="expired"),
                        execution_options={"synchronize_session": "fetch"})
    return session.execute(query, execution_options={"synchronize_session": "fetch"}).rowcount


def live_sessions(session: Session, user: User, now: datetime,
                  lifetimes: Lifetimes) -> list[UserSession]:
    """The user's sessions still in use, most recently seen first."""
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.workspace_id == user.workspace_id,
               UserSession.ended_at.is_(None),
               UserSession.created_at > now - lifetimes.maximum,
               UserSession.last_seen_at > now - lifetimes.idle)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()
    return list(rows)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"),
            ("Linux", "Linux"))


def describe_device(user_agent: str) -> str:
    """A person's words for a User-Agent header: "Firefox on Linux"; no fingerprint is kept."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"
