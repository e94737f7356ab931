"""Notification rules: the wizard's input, its validation step by step, and saving or deleting."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from webapp.database import MAX_ID, utcnow
from webapp.models import (App, Delivery, InAppNotification, Installation, NotificationRule,
                           NotificationRuleApp, Team, User, Workspace)
from webapp.models.notification import AUDIENCES, CHANNELS, FREQUENCIES, RULE_TYPES
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.notifications.windows import window_start, workspace_zone

NAME_MAX = 120
STEPS = (1, 2, 3)


class RuleInputError(InvalidInput):
    """Input no honest form can send (unknown values, another workspace's ids): answered with 400."""


def parse_id(value: str, label: str) -> int:
    """A positive id that fits the id columns, or RuleInputError (never a database overflow)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID):
        raise RuleInputError(f"{label} must be ids.")
    return int(text)


def _ids(values: list[str], label: str) -> list[int]:
    return sorted({parse_id(v, label) for v in values if str(v).strip() != ""})


@dataclass
class RuleForm:
    """What the wizard carries from step to step (hidden fields), as typed values."""

    name: str = ""
    rule_type: str = "app_install"
    frequency: str = "day"
    channels: list[str] = field(default_factory=lambda: ["email", "in_app"])
    all_apps: bool = False
    app_ids: list[int] = field(default_factory=list)
    audience: str = "super_admins"
    user_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_form(cls, form) -> "RuleForm":
        """From a request's MultiDict; raises RuleInputError for values outside the allowed sets."""
        data = cls(
            name=(form.get("name") or "").strip(),
            rule_type=form.get("rule_type") or "app_install",
            frequency=form.get("frequency") or "day",
            channels=[c for c in form.getlist("channels") if c],
            all_apps=form.get("all_apps") in ("1", "on", "true"),
            app_ids=_ids(form.getlist("app_ids"), "Apps"),
            audience=form.get("audience") or "super_admins",
            user_ids=_ids(form.getlist("user_ids"), "Users"),
            team_ids=_ids(form.getlist("team_ids"), "Teams"),
        )
        if data.rule_type not in RULE_TYPES:
            raise RuleInputError("Notification type must be App install, App disconnect or App uninstall.")
        if data.frequency not in FREQUENCIES:
            raise RuleInputError("Notification reminder must be once an hour, a day, a week or a month.")
        if any(c not in CHANNELS for c in data.channels):
            raise RuleInputError("Channels must be Email or In-app.")
        data.channels = [c for c in CHANNELS if c in data.channels]
        if data.audience not in AUDIENCES:
            raise RuleInputError("Recipients must be super admins, everyone or specific users and teams.")
        return data

    @classmethod
    def from_rule(cls, rule: NotificationRule) -> "RuleForm":
        return cls(name=rule.name, rule_type=rule.rule_type, frequency=rule.frequency,
                   channels=list(rule.channels), all_apps=rule.all_apps,
                   app_ids=sorted(a.id for a in rule.apps), audience=rule.audience,
                   user_ids=sorted(u.id for u in rule.users), team_ids=sorted(t.id for t in rule.teams))


def selectable_apps(session: Session, workspace: Workspace, rule: NotificationRule | None = None
                    ) -> list[App]:
    """Apps installed in the workspace, plus those a rule being edited already names."""
    installed = select(Installation.app_id).where(Installation.workspace_id == workspace.id,
                                                  Installation.state == "installed")
    condition = App.id.in_(installed)
    if rule is not None:
        condition = condition | App.id.in_(select(NotificationRuleApp.app_id)
                                           .where(NotificationRuleApp.rule_id == rule.id))
    return list(session.scalars(select(App).where(condition).order_by(App.name)))


def workspace_users(session: Session, workspace: Workspace) -> list[User]:
    return list(session.scalars(select(User).where(User.workspace_id == workspace.id,
                                                   User.active.is_(True)).order_by(User.name)))


def workspace_teams(session: Session, workspace: Workspace) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.workspace_id == workspace.id)
                                .order_by(Team.name)))


def validate_step(session: Session, workspace: Workspace, data: RuleForm, step: int,
                  rule: NotificationRule | None = None) -> dict[str, str]:
    """Errors by field for one step, meant to be shown next to the field."""
    errors: dict[str, str] = {}
    if step == 1:
        if not data.name:
            errors["name"] = "Enter a notification name."
        elif len(data.name) > NAME_MAX:
            errors["name"] = f"Use at most {NAME_MAX} characters."
        else:
            clash = select(NotificationRule.id).where(
                NotificationRule.workspace_id == workspace.id,
                func.lower(NotificationRule.name) == data.name.lower())
            if rule is not None:
                clash = clash.where(NotificationRule.id != rule.id)
            if session.scalar(clash) is not None:
                errors["name"] = "A notification with this name already exists. Choose another name."
        if not data.channels:
            errors["channels"] = "Choose at least one channel."
    elif step == 2:
        allowed = {a.id for a in selectable_apps(session, workspace, rule)}
        if any(app_id not in allowed for app_id in data.app_ids):
            raise RuleInputError("Apps must be apps installed in your workspace.")
        if not data.all_apps and not data.app_ids:
            errors["apps"] = "Choose at least one app, or All apps."
    elif step == 3:
        _check_people(session, workspace, data)
        if data.audience == "specific" and not (data.user_ids or data.team_ids):
            errors["audience"] = "Choose at least one user or team."
    return errors


def _check_people(session: Session, workspace: Workspace, data: RuleForm) -> None:
    if data.user_ids:
        found = set(session.scalars(select(User.id).where(User.id.in_(data.user_ids),
                                                          User.workspace_id == workspace.id)))
        if found != set(data.user_ids):
            raise RuleInputError("Users must be people of your workspace.")
    if data.team_ids:
        found = set(session.scalars(select(Team.id).where(Team.id.in_(data.team_ids),
                                                          Team.workspace_id == workspace.id)))
        if found != set(data.team_ids):
            raise RuleInputError("Teams must be teams of your workspace.")


def validate_all(session: Session, workspace: Workspace, data: RuleForm,
                 rule: NotificationRule | None = None) -> tuple[int | None, dict[str, str]]:
    """The first step with errors and its errors, or (None, {})."""
    for step in STEPS:
        errors = validate_step(session, workspace, data, step, rule)
        if errors:
            return step, errors
    return None, {}


def save_rule(session: Session, workspace: Workspace, actor: User, data: RuleForm,
              rule: NotificationRule | None = None, now: datetime | None = None
              ) -> NotificationRule:
    """Creates or updates a rule from validated input (call validate_all first); a new rule's
    first window is the one holding `now`."""
    if rule is None:
        now = now or utcnow()
        # A new rule starts with the window it was created in.
        rule = NotificationRule(workspace_id=workspace.id, created_by_id=actor.id, created_at=now,
                                evaluated_until=window_start(now, data.frequency,
                                                             workspace_zone(workspace.timezone)))
        session.add(rule)
    rule.name = data.name
    rule.rule_type = data.rule_type
    rule.frequency = data.frequency
    rule.channels = list(data.channels)
    rule.all_apps = data.all_apps
    rule.audience = data.audience
    rule.apps = [] if data.all_apps else list(
        session.scalars(select(App).where(App.id.in_(data.app_ids))))
    specific = data.audience == "specific"
    rule.users = list(session.scalars(select(User).where(User.id.in_(data.user_ids),
                                                         User.workspace_id == workspace.id))) \
        if specific else []
    rule.teams = list(session.scalars(select(Team).where(Team.id.in_(data.team_ids),
                                                         Team.workspace_id == workspace.id))) \
        if specific else []
    session.flush()
    return rule


def get_rule(session: Session, workspace: Workspace, rule_id: int | str) -> NotificationRule:
    """The workspace's rule; NotFound for another workspace's, a deleted one, or what is no id."""
    missing = NotFound("This notification does not exist.")
    try:
        rule_id = parse_id(rule_id, "Notification")
    except RuleInputError:
        raise missing from None
    rule = session.scalar(select(NotificationRule).where(NotificationRule.id == rule_id,
                                                         NotificationRule.workspace_id == workspace.id))
    if rule is None:
        raise missing
    return rule


def list_rules(session: Session, workspace: Workspace) -> list[NotificationRule]:
    return list(session.scalars(
        select(NotificationRule).where(NotificationRule.workspace_id == workspace.id)
        .options(selectinload(NotificationRule.apps), selectinload(NotificationRule.users),
                 selectinload(NotificationRule.teams))
        .order_by(func.lower(NotificationRule.name))))


def delete_rule(session: Session, rule: NotificationRule) -> None:
    """Removes the rule with its deliveries; in-app notifications already shown stay."""
    delivery_ids = select(Delivery.id).where(Delivery.rule_id == rule.id)
    session.execute(update(InAppNotification).where(InAppNotification.delivery_id.in_(delivery_ids))
                    .values(delivery_id=None))
    session.execute(delete(Delivery).where(Delivery.rule_id == rule.id))
    session.delete(rule)  # the ORM removes the rule's app, user and team links
    session.flush()


@dataclass
class RuleStats:
    last_sent_at: object = None
    failed: int = 0
    last_error: str | None = None


def delivery_stats(session: Session, workspace: Workspace) -> dict[int, RuleStats]:
    """Last sent time and failed deliveries per rule, in two queries for the whole table."""
    stats: dict[int, RuleStats] = {}
    rows = session.execute(
        select(Delivery.rule_id, func.max(Delivery.sent_at),
               func.sum(case((Delivery.status == "failed", 1), else_=0)))
        .where(Delivery.workspace_id == workspace.id).group_by(Delivery.rule_id))
    for rule_id, last_sent, failed in rows:
        stats[rule_id] = RuleStats(last_sent_at=last_sent, failed=int(failed or 0))
    failing = [rule_id for rule_id, s in stats.items() if s.failed]
    if failing:
        newest = (select(func.max(Delivery.id)).where(Delivery.rule_id.in_(failing),
                                                      Delivery.status == "failed")
                  .group_by(Delivery.rule_id))
        for rule_id, error in session.execute(select(Delivery.rule_id, Delivery.last_error)
                                              .where(Delivery.id.in_(newest))):
            stats[rule_id].last_error = error
    return stats
