"""What needs attention in a workspace: each installed app that is disconnected, expired or in
error, and each account of a multi-account app that is in error or disconnected, with its problem
in words, since when, and the action that fixes it.

Where the words come from:
- a disconnected or expired installation: the event that made it so (its reason, its actor), at
  that event's time. Its token alerts are part of the same problem (reconnecting resolves them),
  so they are not listed again;
- every other open alert (health check, reported by the app, an account in error): its title,
  since it was first seen;
- an account of a multi-account app that its app reports disconnected, or in error without an
  open alert: its status, since it changed.

Three queries whatever the number of problems. Who is offered which action is the policy's
(attention_actions): Reconnect for a status problem where the app page would offer it, otherwise
"View app"; people who are not admins see the problems without actions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from webapp.models import Alert, App, Event, ExternalAccount, Installation, User
from webapp.services import policy
from webapp.services.event_details import problem_words
from webapp.services.policy import Action, Actions

WITHOUT_TOKEN = ("disconnected", "expired")
PROBLEM_STATUSES = (*WITHOUT_TOKEN, "error")
# Worst first, as the list is ordered.
RANKS = {"disconnected": 0, "expired": 1, "error": 2}
ACCOUNT_WORDS = {"disconnected": "Account disconnected, as the app reports",
                 "error": "Account in error, as the app reports"}


@dataclass(frozen=True)
class Problem:
    installation: Installation
    words: str
    since: datetime
    rank: int
    source: str | None = None  # where an alert comes from ("Health check", ...)
    account: str | None = None  # the account of a multi-account app it is about
    fixed_by_reconnecting: bool = False

    @property
    def app(self) -> App:
        return self.installation.app


@dataclass(frozen=True)
class Entry:
    """One problem as one user sees it: with the action the policy offers them, if any."""

    problem: Problem
    action: Action | None


def _status_problems(session: Session, workspace_id: int) -> list[Problem]:
    """Installed installations whose status is a problem, each with the event that set it."""
    latest = (select(Event.id)
              .where(Event.workspace_id == Installation.workspace_id,
                     Event.app_id == Installation.app_id, Event.activity == Installation.status)
              .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(1)
              .correlate(Installation).scalar_subquery())
    actor = aliased(User)
    rows = session.execute(
        select(Installation, Event, actor.name)
        .join(Installation.app)
        .outerjoin(Event, Event.id == latest)
        .outerjoin(actor, actor.id == Event.actor_id)
        .where(Installation.workspace_id == workspace_id, Installation.state == "installed",
               Installation.status.in_(PROBLEM_STATUSES))).unique().all()
    problems = []
    for installation, event, actor_name in rows:
        status = installation.status
        problems.append(Problem(
            installation=installation,
            words=problem_words(status, event.details if event else None, actor_name),
            since=event.occurred_at if event else installation.updated_at,
            rank=RANKS[status], fixed_by_reconnecting=status in WITHOUT_TOKEN))
    return problems


def _open_alerts(session: Session, workspace_id: int):
    """(alert, installation, account name or None) of each open alert of an installed app."""
    return session.execute(
        select(Alert, Installation, ExternalAccount.name)
        .join(Installation, Installation.id == Alert.installation_id)
        .outerjoin(ExternalAccount, ExternalAccount.id == Alert.external_account_id)
        .where(Alert.workspace_id == workspace_id, Installation.workspace_id == workspace_id,
               Alert.resolved_at.is_(None), Installation.state == "installed")).all()


def _troubled_accounts(session: Session, workspace_id: int):
    """(account, installation) of each account its app reports in error or disconnected."""
    return session.execute(
        select(ExternalAccount, Installation)
        .join(Installation, Installation.id == ExternalAccount.installation_id)
        .where(ExternalAccount.workspace_id == workspace_id,
               Installation.workspace_id == workspace_id, Installation.state == "installed",
               ExternalAccount.status.in_(ACCOUNT_WORDS))).all()


def workspace_problems(session: Session, workspace_id: int) -> list[Problem]:
    """Every problem of the workspace, worst first, then newest first."""
    status_rows = {problem.installation.id: problem
                   for problem in _status_problems(session, workspace_id)}
    problems = [problem for problem in status_rows.values() if problem.fixed_by_reconnecting]
    alerted: set[int] = set()
    accounts_alerted: set[int] = set()
    for alert, installation, account_name in _open_alerts(session, workspace_id):
        status_row = status_rows.get(installation.id)
        if status_row is not None and status_row.fixed_by_reconnecting and alert.source == "token":
            continue  # the same problem as the status, and reconnecting resolves it
        alerted.add(installation.id)
        if alert.external_account_id is not None:
            accounts_alerted.add(alert.external_account_id)
        problems.append(Problem(installation=installation, words=alert.title,
                                since=alert.first_seen, rank=RANKS["error"],
                                source=alert.source_label, account=account_name))
    # An installation in error whose alerts are gone still says so rather than nothing.
    problems += [problem for problem in status_rows.values()
                 if not problem.fixed_by_reconnecting and problem.installation.id not in alerted]
    for account, installation in _troubled_accounts(session, workspace_id):
        if account.id not in accounts_alerted:
            problems.append(Problem(installation=installation, words=ACCOUNT_WORDS[account.status],
                                    since=account.updated_at, rank=RANKS["error"],
                                    account=account.name))
    problems.sort(key=lambda p: (p.rank, -p.since.timestamp(), p.app.name, p.account or ""))
    return problems


def _action(problem: Problem, actions: Actions) -> Action | None:
    if problem.fixed_by_reconnecting and Action.RECONNECT in actions:
        return Action.RECONNECT
    return Action.VIEW_APP if Action.VIEW_APP in actions else None


def needs_attention(session: Session, user: User) -> list[Entry]:
    """The workspace's problems as `user` sees them, each with the action offered to them."""
    entries = []
    decided: dict[int, Actions] = {}
    for problem in workspace_problems(session, user.workspace_id):
        installation = problem.installation
        if installation.id not in decided:
            decided[installation.id] = policy.attention_actions(installation, user)
        entries.append(Entry(problem, _action(problem, decided[installation.id])))
    return entries
