"""Demo data: a believable workspace to explore, and a log large enough to measure at scale.

Idempotent by natural keys: users by email, teams by name, apps by slug, one installation per app,
resources by (app, title), external accounts by external id. An installation is created by
playing its history through the services (demo_history.py); generated log events are only added
while the workspace has none, so running the seed again never duplicates them.

The catalogue's apps are registered like any other (registration.register_app), their install
pages, callbacks and health endpoints at the demo apps' host (`flask demo host`, DEMO_APPS_URL).
Their client credentials, and the tokens the seeded histories issued to them, go to the demo apps
file (DEMO_APPS_FILE) that the host reads. A secret is only issued anew when that file does not
hold a working one, so a re-run keeps the host's credentials valid.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.database import utcnow
from webapp.demo_host.store import DemoAppsFile
from webapp.models import App, Event, Installation, LearningResource, Team, TeamMember, User, Workspace
from webapp.services.accounts import AccountError, get_or_create_workspace
from webapp.services.demo_events import LOG_DAYS, write_log
from webapp.services.demo_history import HistoryPlayer
from webapp.services.lifecycle import refresh_flags
from webapp.services.oauth.tokens import secret_matches
from webapp.services.registration import register_app
from webapp.services.scopes import load_scope_catalogue

WORKSPACE_SLUG = "demo"
DEFAULT_PASSWORD = "demo-password"
DEFAULT_APPS_URL = "http://127.0.0.1:8901"
PLAN = "professional"


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
            events = f"events kept ({self.existing_events} already in the workspace"
            events += f", {self.history_events} history added)" if self.history_events else \
                ", none added)"
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
              now: datetime | None = None, random_seed: int = 2026,
              apps_url: str = DEFAULT_APPS_URL, apps_file: str | None = None,
              ttl_days: int = 90) -> SeedResult:
    """Creates what is missing of the demo workspace and commits; returns the counts.

    `apps_file` is the demo apps file to keep the apps' credentials and tokens in (none: they
    are not kept); `ttl_days` is REFRESH_TOKEN_TTL, which the expired installation's history
    follows."""
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
    store = DemoAppsFile(apps_file) if apps_file else None
    kept = store.read()["apps"] if store else {}
    entries = {entry["slug"]: entry for entry in catalogue["apps"]}
    apps, apps_created, credentials = _register_apps(session, entries, apps_url, kept, store)
    installed = set(session.scalars(select(App.slug).join(Installation).where(
        Installation.workspace_id == workspace.id)))
    scenarios = people_data["installations"]
    new = [scenario for scenario in scenarios if scenario["app"] not in installed]
    existing_events = session.scalar(
        select(func.count()).select_from(Event).where(Event.workspace_id == workspace.id))

    for scenario in new:  # installed back when the app asked for less
        if "version" in scenario:
            register_app(session, _manifest(entries[scenario["app"]], apps_url,
                                            scenario["version"], scenario.get("lacking", [])))
    player = HistoryPlayer(session, workspace, apps, people, now, ttl_days)
    steps = [step for scenario in new for step in player.steps(scenario)]
    new_apps = {apps[s["app"]].id: apps[s["app"]] for s in new}
    generated = write_log(session, workspace, new_apps, player.scopes, list(people.values()),
                          steps, 0 if existing_events else event_count, now, random_seed)
    for scenario in new:
        if "version" in scenario:  # the version it runs now asks for more
            register_app(session, _manifest(entries[scenario["app"]], apps_url))
    player.finish(scenarios)
    resource_count = _seed_resources(session, catalogue)

    installations = session.scalar(select(func.count()).select_from(Installation).where(
        Installation.workspace_id == workspace.id))
    events_now = session.scalar(
        select(func.count()).select_from(Event).where(Event.workspace_id == workspace.id))
    result = SeedResult(workspace.id, len(people), len(teams), len(apps), apps_created,
                        installations, len(new), resource_count, generated,
                        events_now - existing_events - generated, existing_events)
    session.commit()
    if store is not None:
        _keep_for_the_host(store, credentials, player, {s["app"] for s in new})
    return result


def _manifest(entry: dict, apps_url: str, version: str | None = None,
              lacking: list[str] = ()) -> dict:
    """The catalogue entry as the app's manifest, served by the demo apps' host."""
    base = f"{apps_url.rstrip('/')}/{entry['slug']}"
    scopes = {kind: [name for name in names if name not in lacking]
              for kind, names in entry["scopes"].items()}
    return {
        "slug": entry["slug"], "name": entry["name"], "vendor": entry["vendor"],
        "category": entry["category"], "description": entry["description"],
        "version": version or entry["version"], "install_level": entry["install_level"],
        "install_url": f"{base}/install", "redirect_uris": [f"{base}/callback"],
        "scopes": scopes, "health_url": f"{base}/health", "webhook_url": None,
        "sync_settings": entry["sync_settings"],
        "resources": [{"title": resource["title"], "minutes": resource["minutes"],
                       "url": f"https://example.com/academy/{entry['slug']}/"
                              f"{_slugify(resource['title'])}"}
                      for resource in entry["resources"]],
    }


def _register_apps(session: Session, entries: dict[str, dict], apps_url: str, kept: dict,
                   store: DemoAppsFile | None) -> tuple[dict[str, App], int, dict[str, dict]]:
    """Registers (or updates) every catalogue app; returns the apps, how many are new, and the
    credentials the host needs. A secret is issued anew only when the demo apps file does not
    hold the working one."""
    existing = {app.slug: app for app in session.scalars(select(App).where(
        App.slug.in_(list(entries))))}
    apps, created, credentials = {}, 0, {}
    for slug, entry in entries.items():
        known, old = kept.get(slug) or {}, existing.get(slug)
        works = old is not None and known.get("client_id") == old.client_id and secret_matches(
            known.get("client_secret"), old.client_secret_hash)
        registration = register_app(session, _manifest(entry, apps_url),
                                    rotate_secret=store is not None and not works)
        apps[slug] = registration.app
        created += registration.created
        credentials[slug] = {"name": entry["name"], "install_level": entry["install_level"],
                             "client_id": registration.app.client_id,
                             "client_secret": registration.client_secret or known.get("client_secret")}
    return apps, created, credentials


def _keep_for_the_host(store: DemoAppsFile, credentials: dict[str, dict], player: HistoryPlayer,
                       created: set[str]) -> None:
    """What the apps would keep: credentials always; for the installations created now, their
    tokens, the alerts they reported and how their health endpoint answers."""
    keep = player.keep
    with store.update() as data:
        data["apps"].update(credentials)
        for slug in created:
            data["connections"][slug] = keep.connections.get(slug, {})
            data["reported"][slug] = keep.reported.get(slug, {})
            if slug in keep.health:
                data["health"][slug] = keep.health[slug]


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


def _seed_resources(session: Session, catalogue: dict) -> int:
    """The Academy's general resources (each app's own come with its manifest)."""
    wanted = [(position, resource, f"https://example.com/academy/{_slugify(resource['title'])}")
              for position, resource in enumerate(catalogue["academy"])]
    existing = set(session.scalars(select(LearningResource.title).where(
        LearningResource.app_id.is_(None))))
    for position, resource, url in wanted:
        if resource["title"] not in existing:
            session.add(LearningResource(app_id=None, title=resource["title"], url=url,
                                         minutes=resource["minutes"], position=position))
    session.flush()
    return len(wanted) + sum(len(entry["resources"]) for entry in catalogue["apps"])
