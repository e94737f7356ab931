"""Notification rules, their deliveries (the outbox) and in-app notifications."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.app import App
from webapp.database import UTCDateTime, one_of, utcnow
from webapp.models.workspace import Team, User

RULE_TYPES = {"app_install": "App install", "app_disconnect": "App disconnect",
              "app_uninstall": "App uninstall"}
FREQUENCIES = {"hour": "Once an hour", "day": "Once a day", "week": "Once a week",
               "month": "Once a month"}
AUDIENCES = {"super_admins": "Only super admins will be notified",
             "everyone": "Everyone will be notified",
             "specific": "Notify specific users and teams"}
CHANNELS = {"email": "Email", "in_app": "In-app"}
# pending -> queued (a send job exists) -> sending (claimed by a worker) -> sent or failed
DELIVERY_STATUSES = ("pending", "queued", "sending", "sent", "failed")


class NotificationRule(db.Model):
    __tablename__ = "notification_rules"
    __table_args__ = (one_of("rule_type", RULE_TYPES), one_of("frequency", FREQUENCIES),
                      one_of("audience", AUDIENCES))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    rule_type: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10))
    channels: Mapped[list] = mapped_column(JSON, default=list)
    all_apps: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[str] = mapped_column(String(20), default="super_admins")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # End of the last window evaluated; the next evaluation starts here.
    evaluated_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship(lazy="joined")
    apps: Mapped[list[App]] = relationship(secondary="notification_rule_apps", order_by="App.name")
    users: Mapped[list[User]] = relationship(secondary="notification_rule_users", order_by="User.name")
    teams: Mapped[list[Team]] = relationship(secondary="notification_rule_teams", order_by="Team.name")


class NotificationRuleApp(db.Model):
    __tablename__ = "notification_rule_apps"
    rule_id: Mapped[int] = mapped_column(ForeignKey("notification_rules.id", ondelete="CASCADE"),
                                         primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)


class NotificationRuleUser(db.Model):
    __tablename__ = "notification_rule_users"
    rule_id: Mapped[int] = mapped_column(ForeignKey("notification_rules.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class NotificationRuleTeam(db.Model):
    __tablename__ = "notification_rule_teams"
    rule_id: Mapped[int] = mapped_column(ForeignKey("notification_rules.id", ondelete="CASCADE"),
                                         primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class Delivery(db.Model):
    """One message of one rule to one recipient on one channel for one window: the outbox row."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("rule_id", "recipient_id", "channel", "window_start"),
                      one_of("channel", CHANNELS), one_of("status", DELIVERY_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("notification_rules.id", ondelete="CASCADE"),
                                         index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rule: Mapped[NotificationRule] = relationship()
    recipient: Mapped[User] = relationship()


class InAppNotification(db.Model):
    __tablename__ = "inapp_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"),
                                                    unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
