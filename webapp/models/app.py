"""The deployment-wide catalogue: scopes, apps and their learning resources."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.database import UTCDateTime, one_of, utcnow
from webapp.models.workspace import PLANS

INSTALL_LEVELS = ("account", "user", "multi_account")
SENSITIVITIES = ("read", "write", "admin")


class Scope(db.Model):
    __tablename__ = "scopes"
    __table_args__ = (one_of("min_plan", PLANS), one_of("sensitivity", SENSITIVITIES))

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    description: Mapped[str] = mapped_column(String(255))
    min_plan: Mapped[str] = mapped_column(String(20), default="free")
    sensitivity: Mapped[str] = mapped_column(String(10), default="read")


class App(db.Model):
    __tablename__ = "apps"
    __table_args__ = (one_of("install_level", INSTALL_LEVELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    vendor: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(60), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(40))
    install_level: Mapped[str] = mapped_column(String(20), default="account")
    install_url: Mapped[str | None] = mapped_column(String(500))
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    required_scopes: Mapped[list] = mapped_column(JSON, default=list)
    conditional_scopes: Mapped[list] = mapped_column(JSON, default=list)
    optional_scopes: Mapped[list] = mapped_column(JSON, default=list)
    health_url: Mapped[str | None] = mapped_column(String(500))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    sync_settings: Mapped[list] = mapped_column(JSON, default=list)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    resources: Mapped[list["LearningResource"]] = relationship(
        back_populates="app", order_by="LearningResource.position")

    @property
    def all_scopes(self) -> list[str]:
        seen: list[str] = []
        for name in [*self.required_scopes, *self.conditional_scopes, *self.optional_scopes]:
            if name not in seen:
                seen.append(name)
        return seen


class LearningResource(db.Model):
    """An Academy resource; app_id is null for the general ones shown on the overview."""

    __tablename__ = "learning_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    minutes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    app: Mapped[App | None] = relationship(back_populates="resources")
