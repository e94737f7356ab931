"""Installations of apps in workspaces, their alerts and (multi-account apps) external accounts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.app import App
from webapp.database import UTCDateTime, one_of, utcnow
from webapp.models.workspace import User

STATES = ("installed", "uninstalled")
# Worst first: the order status is decided in and shown in.
STATUSES = ("disconnected", "expired", "error", "connected")
# Where an alert comes from, and the words the app page uses for it.
ALERT_SOURCES = {"token": "Token", "health": "Health check", "app": "Reported by the app"}
# How an external account's connection is doing, as the app that holds it reports.
ACCOUNT_STATUSES = ("connected", "error", "disconnected")


class Installation(db.Model):
    __tablename__ = "installations"
    __table_args__ = (UniqueConstraint("workspace_id", "app_id"), one_of("state", STATES),
                      one_of("status", STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="installed")
    status: Mapped[str] = mapped_column(String(20), default="connected")
    update_available: Mapped[bool] = mapped_column(Boolean, default=False)
    upgrade_available: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_version: Mapped[str] = mapped_column(String(40))
    granted_scopes: Mapped[list] = mapped_column(JSON, default=list)
    sync_values: Mapped[dict] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    installed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    app: Mapped[App] = relationship(lazy="joined")
    installed_by: Mapped[User | None] = relationship(lazy="joined")
    alerts: Mapped[list["Alert"]] = relationship(back_populates="installation",
                                                 order_by="Alert.first_seen")
    external_accounts: Mapped[list["ExternalAccount"]] = relationship(
        back_populates="installation", order_by="ExternalAccount.name")

    @property
    def shows_status(self) -> bool:
        return self.state == "installed" and self.app.install_level != "multi_account"


class Alert(db.Model):
    """An open (or, once resolved_at is set, past) problem of an installation.

    While open, (installation, source, key) names one alert: a repeat of the same problem bumps
    last_seen and count instead of opening a second one.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_open_key", "installation_id", "source", "key", unique=True,
              sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
        one_of("source", ALERT_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(220))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(String(2000))
    external_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("external_accounts.id", ondelete="SET NULL"), index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    installation: Mapped[Installation] = relationship(back_populates="alerts")

    @property
    def source_label(self) -> str:
        return ALERT_SOURCES[self.source]


class HealthCheck(db.Model):
    """How the installation's app answered its health probes lately (one row per installation)."""

    __tablename__ = "health_checks"

    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(200))


class ExternalAccount(db.Model):
    """An account held by a multi-account installation (e.g. one social profile)."""

    __tablename__ = "external_accounts"
    __table_args__ = (UniqueConstraint("installation_id", "external_id"),
                      one_of("status", ACCOUNT_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="connected")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    installation: Mapped[Installation] = relationship(back_populates="external_accounts")
