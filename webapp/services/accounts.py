"""Users, workspaces and passwords."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import PLANS, ROLES, User, Workspace
from webapp.services.errors import InvalidInput, Unprocessable
from webapp.services.sessions import Lifetimes, end_user_sessions

# A real hash to compare against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(InvalidInput):
    pass


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, new_password: str, now: datetime,
                 keep_session: int | None = None, lifetimes: Lifetimes | None = None) -> int:
    """Sets the password and ends the user's sessions but `keep_session` (the one that asked);
    returns how many ended."""
    if len(new_password) < 8:
        raise Unprocessable("The new password must be at least 8 characters long.",
                            field="new_password")
    user.password_hash = generate_password_hash(new_password)
    return end_user_sessions(session, user.id, "password_changed", now, keep=keep_session,
                             lifetimes=lifetimes)


def change_password(session: Session, user: User, current_password: str, new_password: str,
                    now: datetime, keep_session: int | None = None,
                    lifetimes: Lifetimes | None = None) -> int:
    """A user changing their own password: the current one must be given."""
    if not check_password_hash(user.password_hash, current_password):
        raise Unprocessable("The current password is not right.", field="current_password")
    if new_password == current_password:
        raise Unprocessable("The new password must differ from the current one.",
                            field="new_password")
    return set_password(session, user, new_password, now, keep_session, lifetimes)


def deactivate_user(session: Session, user: User, now: datetime) -> int:
    """The user can no longer log in, and every session of theirs ends at once."""
    user.active = False
    return end_user_sessions(session, user.id, "deactivated", now)


def get_or_create_workspace(session: Session, slug: str, name: str | None = None,
                            plan: str = "free") -> Workspace:
    if plan not in PLANS:
        raise AccountError(f"plan must be one of {', '.join(PLANS)}")
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        workspace = Workspace(slug=slug, name=name or slug.replace("-", " ").title(), plan=plan)
        session.add(workspace)
        session.flush()
    return workspace


def create_user(session: Session, workspace: Workspace, email: str, password: str, role: str = "user",
                name: str | None = None) -> User:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise AccountError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("password must be at least 8 characters long")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with email {email} already exists")
    user = User(workspace_id=workspace.id, email=email, role=role,
                name=name or email.split("@")[0].replace(".", " ").title(),
                password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user
