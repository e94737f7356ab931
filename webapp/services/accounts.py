"""Users, workspaces and passwords."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import PLANS, ROLES, User, Workspace
from webapp.services.errors import InvalidInput

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
