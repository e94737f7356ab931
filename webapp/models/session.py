"""Login sessions kept on the server: the browser's cookie holds only a random id, whose SHA-256
names the row, so a copied cookie stops working the moment its row is ended."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import UTCDateTime, one_of, utcnow
from webapp.extensions import db

# Why a session ended: shown nowhere yet, kept so that an operator can tell logouts from expiry.
END_REASONS = ("logout", "expired", "replaced", "password_changed", "deactivated",
               "logged_out_elsewhere")


class UserSession(db.Model):
    __tablename__ = "user_sessions"
    __table_args__ = (one_of("ended_reason", END_REASONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    # The session's contents (flask-login's keys, the CSRF token, flashed messages) as tagged JSON.
    data: Mapped[str] = mapped_column(Text, default="{}")
    device: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
