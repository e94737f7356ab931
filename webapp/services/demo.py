"""Demo data: a believable workspace to explore and to measure at scale."""
from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.services.accounts import create_user, get_or_create_workspace
from webapp.models import User
from sqlalchemy import select


def seed_demo(session: Session, event_count: int = 2000, password: str = "demo-password") -> str:
    workspace = get_or_create_workspace(session, "demo", "Demo", plan="professional")
    for email, role in (("superadmin@example.com", "super_admin"), ("admin@example.com", "admin"),
                        ("user@example.com", "user")):
        if session.scalar(select(User).where(User.email == email)) is None:
            create_user(session, workspace, email, password, role=role)
    session.commit()
    return "seeded workspace demo"
