"""Resource servers (the deployment's APIs that introspect tokens) and the API usage they cause."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import UTCDateTime, utcnow
from webapp.extensions import db


class ResourceServer(db.Model):
    """An API that accepts the console's access tokens; its credentials may introspect any token."""

    __tablename__ = "resource_servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsageHourly(db.Model):
    """API calls of one installation in one UTC hour: scope '' is the installation's total,
    any other row counts the calls that needed that scope."""

    __tablename__ = "usage_hourly"
    __table_args__ = (
        UniqueConstraint("installation_id", "scope", "hour"),
        Index("ix_usage_hourly_workspace_hour", "workspace_id", "hour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    scope: Mapped[str] = mapped_column(String(80), default="")
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageFold(db.Model):
    """One batch of counts moved from Redis into usage_hourly, written in the same transaction as
    its counts: a batch found here again (a fold that died before deleting it from Redis) is
    deleted without being counted twice."""

    __tablename__ = "usage_folds"

    batch: Mapped[str] = mapped_column(String(120), primary_key=True)
    folded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
