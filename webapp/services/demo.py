"""Demo data: a believable workspace to explore, and a log large enough to measure at scale.

Idempotent by natural keys: users by email, teams by name, apps by slug, one installation per app,
resources by (app, title), external accounts by external id. Log events are only added while the
workspace has none, so running the seed again never duplicates them.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.database import utcnow
from webapp.models import (
    Alert, App, Event, ExternalAccount, Grant, Installation, LearningResource, Scope, Team, TeamMember,
    User, Workspace)
from webapp.services.accounts import AccountError, get_or_create_workspace
from webapp.services.demo_events import LOG_DAYS, HistoryEvent, insert_log
from webapp.services.installations import compute_flags, plan_covers
from webapp.services.lifecycle import refresh_flags
from webapp.services.scopes import load_scope_catalogue

WORKSPACE_SLUG = "demo"
DEFAULT_PASSWORD = "demo-password"
PLAN = "professional"
FIRST_PORT = 8910


@dataclass
class SeedResult:
    workspace_id: int
    users: int
    teams: int
    apps: int
    apps_created: int
    installations: int
    installations_created: int
    resources: int
    generated_events: int = 0
    history_events: int = 0
    existing_events: int = 0

    def summary(self) -> str:
        if self.existing_events:
            events = f"events kept ({self.existing_events} already in the workspace, none added)"
        else:
            events = f"{self.generated_events + self.history_events} events added " \
                     f"({self.generated_events} over {LOG_DAYS} days + {self.history_events} history)"
        return (f"Demo workspace: {self.users} users, {self.teams} teams, {self.apps} apps "
                f"({self.apps_created} new), {self.installations} installations "
                f"({self.installations_created} new), {self.resources} learning resources, {events}")


def _data(name: str) -> dict:
    return json.loads(resources.files("webapp").joinpath(f"data/{name}").read_text())


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def seed_demo(session: Session, event_count: int = 2000, password: str | None = None,
              now: datetime | None = None, random_seed: int = 2026) -> SeedResult:
    """Creates what is missing of the demo workspace and commits; returns the counts."""
    if password is not None and len(password) < 8:
        raise AccountError("password must be at least 8 characters long")
    now = now or utcnow()
    people_data, catalogue = _data("demo_workspace.json"), _data("demo_catalogue.json")
    workspace = get_or_create_workspace(session, WORKSPACE_SLUG, "Demo", plan=PLAN)
    if workspace.plan != PLAN:  # e.g. created by `users create` first: flags follow the plan
        workspace.plan = PLAN
        for installation in session.scalars(
                select(Installation).where(Installation.workspace_id == workspace.id)):
            refresh_flags(session, installation, workspace)
    people = _seed_people(session, workspace, people_data["users"], password)
    teams = _seed_teams(session, workspace, people_data["teams"], people)
    load_scope_catalogue(session)
    apps, apps_created = _seed_apps(session, catalogue["apps"])
    resource_count = _seed_resources(session, apps, catalogue)
    scenarios = people_data["installations"]
    created = _seed_installations(session, workspace, apps, people, scenarios, now)
    installations = session.scalars(
        select(Installation).where(Installation.workspace_id == workspace.id)).all()
    result = SeedResult(workspace.id, len(people), len(teams), len(apps), apps_created,
                        len(installations), created, resource_count)
    result.existing_events = session.scalar(
        select(func.count()).select_from(Event).where(Event.workspace_id == workspace.id))
    if not result.existing_events:
        histories = _histories(workspace, apps, people, scenarios, installations, now)
        result.history_events = sum(len(events) for events in histories.values())
        result.generated_events = insert_log(session, workspace, installations,
                                             list(people.values()), histories, event_count, now,
                                             random_seed)
    session.commit()
    return result


def _seed_people(session: Session, workspace: Workspace, entries: list[dict], password: str | None
                 ) -> dict[str, User]:
    """New demo users get `password` (DEFAULT_PASSWORD when None); existing ones only when a
    password is given, so a routine re-run keeps passwords. Hashed once: a hash takes a moment."""
    people: dict[str, User] = {}
    password_hash = None
    reset_existing = password is not None
    password = password or DEFAULT_PASSWORD
    for entry in entries:
        user = session.scalar(select(User).where(User.email == entry["email"]))
        if user is not None and user.workspace_id != workspace.id:
            raise AccountError(f"{entry['email']} already belongs to another workspace")
        if user is None:
            user = User(workspace_id=workspace.id, email=entry["email"], name=entry["name"],
                        role=entry["role"], active=entry.get("active", True))
            session.add(user)
            needs_password = True
        else:
            needs_password = reset_existing and not check_password_hash(user.password_hash, password)
        if needs_password:
            password_hash = password_hash or generate_password_hash(password)
            user.password_hash = password_hash
        people[user.email] = user
    session.flush()
    return people


def _seed_teams(session: Session, workspace: Workspace, entries: list[dict], people: dict[str, User]
                ) -> list[Team]:
    teams = []
    for entry in entries:
        team = session.scalar(select(Team).where(Team.workspace_id == workspace.id,
                                                 Team.name == entry["name"]))
        if team is None:
            team = Team(workspace_id=workspace.id, name=entry["name"])
            session.add(team)
            session.flush()
            session.add_all(TeamMember(team_id=team.id, user_id=people[email].id)
                            for email in entry["members"])
        teams.append(team)
    session.flush()
    return teams


def _seed_apps(session: Session, entries: list[dict]) -> tuple[dict[str, App], int]:
    """The invented catalogue. No app behind these listings answers, so none gets an install
    page: the marketplace says so instead of offering an Install that leads nowhere."""
    existing = {app.slug: app for app in session.scalars(
        select(App).where(App.slug.in_([entry["slug"] for entry in entries])))}
    created = 0
    for index, entry in enumerate(entries):
        if entry["slug"] in existing:
            continue
        origin = f"http://127.0.0.1:{FIRST_PORT + index}"
        app = App(slug=entry["slug"], name=entry["name"], vendor=entry["vendor"],
                  category=entry["category"], description=entry["description"],
                  version=entry["version"], install_level=entry["install_level"],
                  install_url=None, redirect_uris=[f"{origin}/callback"],
                  required_scopes=entry["scopes"]["required"],
                  conditional_scopes=entry["scopes"]["conditionally_required"],
                  optional_scopes=entry["scopes"]["optional"],
                  sync_settings=entry["sync_settings"],
                  client_id=secrets.token_urlsafe(18), client_secret_hash=None)
        session.add(app)
        existing[app.slug] = app
        created += 1
    session.flush()
    return existing, created


def _seed_resources(session: Session, apps: dict[str, App], catalogue: dict) -> int:
    wanted: list[tuple[int | None, int, dict, str]] = []
    for entry in catalogue["apps"]:
        for position, resource in enumerate(entry["resources"]):
            url = f"https://example.com/academy/{entry['slug']}/{_slugify(resource['title'])}"
            wanted.append((apps[entry["slug"]].id, position, resource, url))
    for position, resource in enumerate(catalogue["academy"]):
        wanted.append((None, position, resource, f"https://example.com/academy/{_slugify(resource['title'])}"))
    existing = set(session.execute(select(LearningResource.app_id, LearningResource.title)).all())
    for app_id, position, resource, url in wanted:
        if (app_id, resource["title"]) not in existing:
            session.add(LearningResource(app_id=app_id, title=resource["title"], url=url,
                                         minutes=resource["minutes"], position=position))
    session.flush()
    return len(wanted)


def _at(now: datetime, days_ago: int) -> datetime:
    """A plausible office-hours time `days_ago` days back (a few minutes ago for today)."""
    if days_ago == 0:
        return now - timedelta(minutes=12)
    day = now - timedelta(days=days_ago)
    return day.replace(hour=8 + days_ago % 9, minute=(days_ago * 7) % 60, second=0, microsecond=0)


def _history(scenario: dict) -> list[list]:
    return scenario.get("history") or [["installed", scenario["days_ago"], scenario["by"]]]


def _seed_installations(session: Session, workspace: Workspace, apps: dict[str, App],
                        people: dict[str, User], scenarios: list[dict], now: datetime) -> int:
    catalogue = {scope.name: scope for scope in session.scalars(select(Scope))}
    installed = {row.app_id: row for row in session.scalars(
        select(Installation).where(Installation.workspace_id == workspace.id))}
    created = 0
    for scenario in scenarios:
        app = apps[scenario["app"]]
        installation = installed.get(app.id)
        if installation is None:
            installation = _create_installation(session, workspace, app, people, scenario, now, catalogue)
            created += 1
        for external_id, name, status in scenario.get("accounts", []):
            if not any(a.external_id == external_id for a in installation.external_accounts):
                session.add(ExternalAccount(workspace_id=workspace.id, installation_id=installation.id,
                                            external_id=external_id, name=name, status=status))
    session.flush()
    return created


def _create_installation(session: Session, workspace: Workspace, app: App, people: dict[str, User],
                         scenario: dict, now: datetime, catalogue: dict[str, Scope]) -> Installation:
    lacking = set(scenario.get("lacking", []))
    granted = [name for name in app.all_scopes
               if plan_covers(workspace.plan, catalogue[name].min_plan) and name not in lacking]
    flags = compute_flags(app, granted, workspace.plan, catalogue)
    history = _history(scenario)
    sync_values = {s["key"]: s["default"] for s in app.sync_settings}
    sync_values.update(scenario.get("sync", {}))
    state = scenario.get("state", "installed")
    installation = Installation(
        workspace_id=workspace.id, app_id=app.id, state=state,
        status=scenario.get("status", "connected"), update_available=flags.update_available,
        upgrade_available=flags.upgrade_available,
        installed_version=scenario.get("version", app.version), granted_scopes=granted,
        sync_values=sync_values,
        installed_at=_at(now, scenario["days_ago"]), installed_by_id=people[scenario["by"]].id,
        uninstalled_at=_at(now, history[-1][1]) if state == "uninstalled" else None,
        updated_at=_at(now, history[-1][1]))
    session.add(installation)
    session.flush()
    _create_grants(session, installation, people, scenario, history, now)
    for alert in scenario.get("alerts", []):
        resolved = alert.get("resolved")
        session.add(Alert(workspace_id=workspace.id, installation_id=installation.id,
                          source=alert["source"], key=alert["key"], title=alert["title"],
                          detail=alert.get("detail"), count=alert.get("count", 1),
                          first_seen=_at(now, alert["first"]), last_seen=_at(now, alert["last"]),
                          resolved_at=None if resolved is None else _at(now, resolved)))
    return installation


def _create_grants(session: Session, installation: Installation, people: dict[str, User],
                   scenario: dict, history: list[list], now: datetime) -> None:
    """One grant per consent in the history; an uninstall or disconnect revokes the latest."""
    latest: Grant | None = None
    for activity, days_ago, email in history:
        if activity in ("installed", "reinstalled", "reconnected"):
            latest = Grant(workspace_id=installation.workspace_id, installation_id=installation.id,
                           app_id=installation.app_id, user_id=people[email or scenario["by"]].id,
                           scopes=list(installation.granted_scopes), created_at=_at(now, days_ago))
            session.add(latest)
        elif latest is not None:
            latest.revoked_at = _at(now, days_ago)
            latest.revoked_reason = "uninstalled" if activity == "uninstalled" else "revoked_by_app"
    for email, days_ago in scenario.get("grants", []):
        session.add(Grant(workspace_id=installation.workspace_id, installation_id=installation.id,
                          app_id=installation.app_id, user_id=people[email].id,
                          scopes=list(installation.granted_scopes), created_at=_at(now, days_ago)))


def _histories(workspace: Workspace, apps: dict[str, App], people: dict[str, User],
               scenarios: list[dict], installations: list[Installation], now: datetime
               ) -> dict[int, list[HistoryEvent]]:
    """Each installation's seeded history as log events, with the details the lifecycle writes:
    its installs, uninstalls and disconnects, the other users' grants of a user-level app, and a
    day after the install the change that gave a sync setting a value other than its default."""
    by_app = {row.app_id: row for row in installations if row.workspace_id == workspace.id}
    histories: dict[int, list[HistoryEvent]] = {}
    for scenario in scenarios:
        app = apps[scenario["app"]]
        installation = by_app[app.id]
        user_level = app.install_level == "user"
        events = histories.setdefault(app.id, [])
        for activity, days_ago, email in _history(scenario):
            actor_id = people[email].id if email else None
            details: dict = {}
            if user_level and activity in ("reinstalled", "reconnected"):
                details = {"user_grant": True}
            elif activity == "disconnected":
                details = {"reason": "admin_disconnected" if email else "revoked_by_app"}
            events.append(HistoryEvent(activity, _at(now, days_ago), actor_id, details))
        for email, days_ago in scenario.get("grants", []):
            events.append(HistoryEvent("installed", _at(now, days_ago), people[email].id,
                                       {"user_grant": True}))
        for setting in app.sync_settings:
            value = installation.sync_values.get(setting["key"], setting["default"])
            if value != setting["default"]:
                events.append(HistoryEvent(
                    "sync_on" if value else "sync_off", _at(now, scenario["days_ago"] - 1),
                    people[scenario["by"]].id, {"key": setting["key"], "label": setting["label"]}))
        events.sort(key=lambda event: event.occurred_at)
    return histories
