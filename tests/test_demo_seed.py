"""`flask demo seed`: a believable, idempotent demo workspace and its log, every status reached
through the services, and the credentials and tokens its apps keep in the demo apps file."""
from __future__ import annotations

import json
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.html import region, terms
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    Alert, App, Event, ExternalAccount, Grant, HealthCheck, Installation, LearningResource, Scope,
    Team, Token, User, Workspace)
from webapp.models.workspace import plan_rank
from webapp.services.accounts import authenticate
from webapp.services.connections import user_connections
from webapp.services.demo import seed_demo
from webapp.models.installation import ACCOUNT_STATUSES
from webapp.services.oauth.tokens import find_active_access_token, secret_matches

EVENTS = 300
APPS_URL = "http://127.0.0.1:8901"


@pytest.fixture
def apps_file(tmp_path):
    return tmp_path / "demo_apps.json"


@pytest.fixture
def demo(session, apps_file):
    result = seed_demo(session, event_count=EVENTS, apps_file=str(apps_file))
    return result, session.scalar(select(Workspace).where(Workspace.slug == "demo"))


def _kept(apps_file) -> dict:
    return json.loads(apps_file.read_text())


def _installations(session, workspace):
    return session.scalars(select(Installation).where(Installation.workspace_id == workspace.id)).all()


def _counts(session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Workspace, User, Team, App, Scope, LearningResource, Installation, Grant,
                          Alert, ExternalAccount, Event)}


def test_the_demo_workspace_has_the_named_users_and_two_teams(demo, session):
    _, workspace = demo
    assert (workspace.name, workspace.plan, workspace.timezone) == ("Demo", "professional", "UTC")
    users = {u.email: u for u in session.scalars(select(User).where(User.workspace_id == workspace.id))}
    assert users["superadmin@example.com"].role == "super_admin"
    assert users["admin@example.com"].role == "admin"
    assert users["user@example.com"].role == "user"
    assert all(" " in u.name for u in users.values()), "people have first and last names"
    assert len(users) > 3 and sum(not u.active for u in users.values()) == 1
    for email in ("superadmin@example.com", "admin@example.com", "user@example.com"):
        assert authenticate(session, email, "demo-password") is not None
    teams = session.scalars(select(Team).where(Team.workspace_id == workspace.id)).all()
    assert len(teams) == 2 and all(team.members for team in teams)


def test_the_catalogue_is_believable(demo, session):
    apps = session.scalars(select(App)).all()
    assert len(apps) >= 25
    assert len({app.category for app in apps}) >= 6
    assert {app.install_level for app in apps} == {"account", "user", "multi_account"}
    assert len({app.client_id for app in apps}) == len(apps)
    for app in apps:  # each served by the demo apps' host
        assert app.install_url == f"{APPS_URL}/{app.slug}/install"
        assert app.redirect_uris == [f"{APPS_URL}/{app.slug}/callback"]
        assert app.health_url == f"{APPS_URL}/{app.slug}/health"
    known_scopes = set(session.scalars(select(Scope.name)))
    assert all(set(app.all_scopes) <= known_scopes and app.required_scopes for app in apps)
    assert sum(bool(app.sync_settings) for app in apps) >= 5
    assert all(1 <= len(app.resources) <= 3 for app in apps)
    general = session.scalars(select(LearningResource).where(LearningResource.app_id.is_(None))).all()
    assert 4 <= len(general) <= 6
    everything = session.scalars(select(LearningResource)).all()
    assert all(r.url.startswith("https://example.com/") and r.minutes > 0 for r in everything)


def test_every_app_is_registered_with_credentials_its_host_keeps_owner_only(demo, session,
                                                                          apps_file):
    kept = _kept(apps_file)["apps"]
    apps = session.scalars(select(App)).all()
    assert set(kept) == {app.slug for app in apps}
    for app in apps:
        assert kept[app.slug]["client_id"] == app.client_id
        assert secret_matches(kept[app.slug]["client_secret"], app.client_secret_hash), app.slug
        assert kept[app.slug]["install_level"] == app.install_level
    assert stat.S_IMODE(apps_file.stat().st_mode) == 0o600


def test_the_apps_hold_working_tokens_of_exactly_their_live_connections(demo, session, apps_file):
    _, workspace = demo
    kept = _kept(apps_file)["connections"]
    for installation in _installations(session, workspace):
        slug = installation.app.slug
        records = kept.get(slug, {})
        usable = installation.state == "installed" and installation.status not in (
            "disconnected", "expired")
        assert bool(records) == usable, slug
        for record in records.values():
            token = find_active_access_token(session, record["access_token"])
            assert token is not None and token.grant.installation_id == installation.id, slug
            assert token.issued_at > utcnow() - timedelta(hours=1), "the apps refreshed lately"
            user = session.get(User, token.user_id)
            assert (record["workspace"], record["user"]) == ("demo", user.email)


def test_each_status_comes_from_what_its_service_records(demo, session, apps_file):
    _, workspace = demo
    by_slug = {i.app.slug: i for i in _installations(session, workspace)}
    expired = by_slug["ledgerleaf"]
    assert expired.status == "expired"
    [token_alert] = [a for a in expired.alerts if a.resolved_at is None]
    assert (token_alert.source, token_alert.title) == ("token", "Refresh token expired")
    tokens = session.scalars(select(Token).join(Grant).where(
        Grant.installation_id == expired.id)).all()
    assert tokens and all(t.revoked_at is not None for t in tokens), "ended by the expiry job"
    assert all(t.issued_at < utcnow() - timedelta(days=90) for t in tokens)

    disconnected = by_slug["invoice-otter"]
    assert disconnected.status == "disconnected"
    grants = session.scalars(select(Grant).where(Grant.installation_id == disconnected.id)).all()
    assert [g.revoked_reason for g in grants] == ["revoked_by_app"]

    failing = by_slug["helpharbor"]
    assert failing.status == "error"
    check = session.get(HealthCheck, failing.id)
    assert check.consecutive_failures >= 3 and check.last_outcome == "HTTP 503"
    assert {(a.source, a.title) for a in failing.alerts if a.resolved_at is None} == {
        ("app", "Ticket syncs are failing"), ("health", "Health check failing: HTTP 503")}
    kept = _kept(apps_file)
    assert kept["health"] == {"helpharbor": "failing", "cohort-canvas": "timing-out"}
    assert kept["reported"]["helpharbor"] == {"demo": ["ticket-sync"]}


def test_installations_cover_every_status_flag_and_install_level(demo, session):
    _, workspace = demo
    installations = _installations(session, workspace)
    assert len(installations) >= 12
    shown = [i for i in installations if i.shows_status]
    assert {i.status for i in shown} == {"connected", "error", "expired", "disconnected"}
    assert any(i.update_available for i in shown) and any(i.upgrade_available for i in shown)
    assert any(i.state == "uninstalled" for i in installations)
    levels = {i.app.install_level for i in installations if i.state == "installed"}
    assert levels == {"account", "user", "multi_account"}
    assert all(any(a.resolved_at is None for a in i.alerts) for i in shown if i.status == "error")
    alerts = [a for i in installations for a in i.alerts]
    assert any(a.resolved_at is not None for a in alerts)
    assert any(i.sync_values for i in installations)


def test_flags_follow_the_rule_of_scopes_and_plan(demo, session):
    _, workspace = demo
    min_plan = dict(session.execute(select(Scope.name, Scope.min_plan)).all())
    rank = plan_rank(workspace.plan)
    for installation in _installations(session, workspace):
        asked = installation.app.all_scopes
        allowed = [s for s in asked if plan_rank(min_plan[s]) <= rank]
        assert installation.upgrade_available == (len(allowed) < len(asked)), installation.app.slug
        missing = [s for s in allowed if s not in installation.granted_scopes]
        assert installation.update_available == bool(missing), installation.app.slug
        if installation.update_available:
            assert installation.installed_version != installation.app.version
        assert all(plan_rank(min_plan[s]) <= rank for s in installation.granted_scopes)


def test_user_level_and_multi_account_installations(demo, session):
    _, workspace = demo
    user = session.scalar(select(User).where(User.email == "user@example.com"))
    installations = _installations(session, workspace)
    user_level = [i for i in installations if i.app.install_level == "user"]
    assert any(i.installed_by_id == user.id for i in user_level)
    for installation in user_level:
        grants = session.scalars(select(Grant).where(Grant.installation_id == installation.id)
                                 .order_by(Grant.created_at)).all()
        assert grants[0].user_id == installation.installed_by_id
        assert grants[0].created_at == installation.installed_at
    multi = [i for i in installations if i.app.install_level == "multi_account"]
    assert multi and all(2 <= len(i.external_accounts) <= 4 for i in multi)
    assert {a.status for i in multi for a in i.external_accounts} == set(ACCOUNT_STATUSES)


def test_events_are_spread_over_90_days_about_the_workspace_apps(demo, session):
    result, workspace = demo
    events = session.scalars(select(Event).where(Event.workspace_id == workspace.id)).all()
    assert len(events) == result.generated_events + result.history_events
    assert result.generated_events > 0.9 * EVENTS
    assert result.history_events >= len(_installations(session, workspace))
    app_ids = {i.app_id for i in _installations(session, workspace)}
    user_ids = set(session.scalars(select(User.id).where(User.workspace_id == workspace.id)))
    now = utcnow()
    assert all(e.app_id in app_ids for e in events)
    assert all(e.actor_id is None or e.actor_id in user_ids for e in events)
    assert any(e.actor_id is None for e in events)
    # Only the history of the app whose refresh token expired goes further back: its install,
    # when its token was last used, is older than the tokens live unused.
    older = sorted((e for e in events if e.occurred_at < now - timedelta(days=90)),
                   key=lambda e: e.occurred_at)
    expired = session.scalar(select(App.id).where(App.slug == "ledgerleaf"))
    assert {e.app_id for e in older} == {expired} and older[0].activity == "installed"
    assert all(e.details.get("key") for e in older[1:]), "nothing but its seeded sync setting"
    assert all(e.occurred_at <= now for e in events)
    activities = Counter(e.activity for e in events)
    assert set(activities) == {"installed", "reinstalled", "uninstalled", "disconnected",
                               "reconnected", "reauthenticated", "sync_on", "sync_off", "expired",
                               "error", "resolved"}
    assert activities["sync_on"] > activities["uninstalled"]
    assert max(e.occurred_at for e in events) - min(e.occurred_at for e in events) > timedelta(days=80)


def test_each_installation_has_the_event_of_its_current_state(demo, session):
    _, workspace = demo
    for installation in _installations(session, workspace):
        latest = session.scalar(
            select(Event.activity).where(Event.workspace_id == workspace.id,
                                         Event.app_id == installation.app_id,
                                         Event.occurred_at <= installation.updated_at)
            .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(1))
        assert latest is not None, installation.app.slug
        if installation.state == "uninstalled":
            assert session.scalar(select(func.count()).select_from(Event).where(
                Event.app_id == installation.app_id, Event.activity == "uninstalled",
                Event.occurred_at == installation.uninstalled_at)) == 1


def test_seeding_twice_creates_nothing_twice(demo, session, apps_file):
    before, kept = _counts(session), apps_file.read_text()
    secrets_before = dict(session.execute(select(App.slug, App.client_secret_hash)).all())
    again = seed_demo(session, event_count=EVENTS, apps_file=str(apps_file))
    assert _counts(session) == before
    assert (again.apps_created, again.installations_created) == (0, 0)
    assert again.existing_events == before["Event"] and again.generated_events == 0
    assert dict(session.execute(select(App.slug, App.client_secret_hash)).all()) == secrets_before
    assert apps_file.read_text() == kept


def test_a_lost_demo_apps_file_gets_new_working_secrets_and_nothing_else_changes(
        demo, session, apps_file):
    before = _counts(session)
    apps_file.unlink()
    seed_demo(session, event_count=EVENTS, apps_file=str(apps_file))
    assert _counts(session) == before
    kept = _kept(apps_file)["apps"]
    for app in session.scalars(select(App)):
        assert secret_matches(kept[app.slug]["client_secret"], app.client_secret_hash), app.slug


def test_the_command_seeds_sets_passwords_and_reports(app, browser, monkeypatch, apps_file):
    monkeypatch.setitem(app.config, "DEMO_APPS_FILE", str(apps_file))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed", "--events", "120", "--password", "open-sesame-42"])
    assert first.exit_code == 0, first.output
    generated = int(re.search(r"(\d+) over 90 days", first.output).group(1))
    assert 108 <= generated <= 120 and "installations" in first.output
    with app.app_context():
        for email in ("superadmin@example.com", "admin@example.com", "user@example.com"):
            assert authenticate(db.session, email, "open-sesame-42") is not None
        assert authenticate(db.session, "sam.whitaker@example.com", "open-sesame-42") is None
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        assert admin.password_hash.startswith("scrypt:")
        events_after_first_run = db.session.scalar(select(func.count()).select_from(Event))
        apps = db.session.scalar(select(func.count()).select_from(App))
    kept = _kept(apps_file)["apps"]  # DEMO_APPS_FILE, for `demo host`
    assert len(kept) == apps and all(entry["client_secret"] for entry in kept.values())
    page = browser().login(admin, password="open-sesame-42").get("/settings/connected-apps/")
    assert page.status_code == 200

    second = runner.invoke(args=["demo", "seed", "--events", "120", "--password", "changed-again-7"])
    assert second.exit_code == 0, second.output
    assert "none added" in second.output and "(0 new)" in second.output
    with app.app_context():
        assert authenticate(db.session, "user@example.com", "changed-again-7") is not None
        assert db.session.scalar(select(func.count()).select_from(Event)) == events_after_first_run

    # A routine re-run (as `make run` does) keeps the passwords people use.
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        assert authenticate(db.session, "admin@example.com", "changed-again-7") is not None


def test_a_short_password_is_refused_with_a_clear_message(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output


def test_every_demo_page_renders_and_the_summary_shows_each_number(demo, session, browser):
    _, workspace = demo
    admin = session.scalar(select(User).where(User.email == "admin@example.com"))
    client = browser().sign_in(admin)
    numbers = terms(region(client.get("/settings/connected-apps/"), "App summary"))
    for label in ("Connected apps", "Disconnected", "Errors", "Updates available", "Upgrades available"):
        assert int(numbers[label]) > 0, label
    assert client.get("/settings/connected-apps/my-apps").status_code == 200
    for installation in _installations(session, workspace):
        page = client.get(f"/settings/connected-apps/apps/{installation.app.slug}")
        assert page.status_code == 200, installation.app.slug
    for app in session.scalars(select(App)):
        assert client.get(f"/marketplace/{app.slug}").status_code == 200, app.slug


def test_a_demo_workspace_created_on_another_plan_is_moved_to_professional(session):
    session.add(Workspace(slug="demo", name="Demo", plan="free"))
    session.commit()
    seed_demo(session, event_count=10)
    assert session.scalar(select(Workspace.plan).where(Workspace.slug == "demo")) == "professional"


@dataclass
class Replayed:
    """What an app's log says about its installation now."""

    state: str | None = None
    connected: bool = False
    expired: bool = False
    open_alerts: set = field(default_factory=set)
    sync: dict = field(default_factory=dict)
    installed_by: int | None = None
    installed_at: object = None
    holders: list = field(default_factory=list)  # who holds grants in force, first first

    @property
    def status(self) -> str:
        if not self.connected:
            return "disconnected"
        if self.expired:
            return "expired"
        return "error" if self.open_alerts else "connected"


def _replay(installation, events) -> Replayed:
    """Walks one app's log through the lifecycle's rules, or fails at the first step the
    services could not have taken."""
    app = installation.app
    user_level = app.install_level == "user"
    keys = {s["key"] for s in app.sync_settings}
    log = Replayed(sync={s["key"]: s["default"] for s in app.sync_settings})
    for event in events:
        where = f"{app.slug} event {event.id} {event.activity} after {log}"
        activity, actor, details = event.activity, event.actor_id, event.details
        if activity == "installed" and log.state is None:
            log.state, log.connected, log.holders = "installed", True, [actor]
            log.installed_by, log.installed_at = actor, event.occurred_at
        elif activity == "installed":
            assert user_level and details == {"user_grant": True}, where
            assert log.state == "installed" and log.connected and actor not in log.holders, where
            log.holders.append(actor)
        elif activity == "reinstalled":
            assert log.state == "uninstalled", where
            log.state, log.connected, log.expired, log.holders = "installed", True, False, [actor]
            log.installed_by, log.installed_at = actor, event.occurred_at
        elif activity == "uninstalled":
            assert log.state == "installed", where
            log.state, log.holders, log.open_alerts = "uninstalled", [], set()
        elif activity == "disconnected":
            assert app.install_level == "account", where
            assert log.state == "installed" and log.connected, where
            log.connected, log.holders = False, []
        elif activity == "reconnected":
            assert log.state == "installed" and not log.connected or log.expired, where
            log.connected, log.expired, log.holders = True, False, [actor]
            log.open_alerts = {alert for alert in log.open_alerts if alert[0] != "token"}
        elif activity == "reauthenticated":
            assert log.state == "installed" and log.connected and not log.expired, where
            assert actor in log.holders, f"{where}: only who holds a grant consents again"
        elif activity == "expired":
            assert log.state == "installed" and log.connected and not log.expired, where
            log.expired = True
            log.open_alerts.add(("token", "refresh-token"))
        elif activity == "error":
            assert log.state == "installed" and actor is None, where
            alert = (details["source"], details["key"])
            assert alert not in log.open_alerts, where
            log.open_alerts.add(alert)
        elif activity == "resolved":
            alert = (details["source"], details["key"])
            assert alert in log.open_alerts, where
            log.open_alerts.discard(alert)
        else:
            key = details["key"]
            assert log.state == "installed" and key in keys, where
            assert log.sync[key] != (activity == "sync_on"), where
            log.sync[key] = activity == "sync_on"
    return log


@pytest.fixture
def large_demo(session, apps_file):
    seed_demo(session, event_count=2000, apps_file=str(apps_file))
    return session.scalar(select(Workspace).where(Workspace.slug == "demo"))


def test_every_app_log_replays_into_its_installation(large_demo, session):
    """The log agrees with the state: status and open alerts, who installed it and when, who
    holds its grants (for a user-level app: who is connected), its sync settings."""
    for installation in _installations(session, large_demo):
        slug = installation.app.slug
        events = session.scalars(select(Event).where(
            Event.workspace_id == large_demo.id, Event.app_id == installation.app_id)
            .order_by(Event.occurred_at, Event.id)).all()
        assert events[0].activity == "installed", slug
        times = [e.occurred_at for e in events]
        assert times == sorted(set(times)), f"{slug}: one event at a time"
        log = _replay(installation, events)
        assert log.state == installation.state, slug
        if installation.shows_status:
            assert log.status == installation.status, slug
        open_alerts = {(a.source, a.key) for a in installation.alerts if a.resolved_at is None}
        assert log.open_alerts == open_alerts, slug
        assert (log.installed_by, log.installed_at) == (
            installation.installed_by_id, installation.installed_at), slug
        holders = session.scalars(select(Grant.user_id).where(
            Grant.installation_id == installation.id, Grant.revoked_at.is_(None))
            .order_by(Grant.created_at, Grant.id)).all()
        assert list(dict.fromkeys(holders)) == log.holders, slug
        if installation.app.install_level == "user" and installation.state == "installed":
            assert [c.user.id for c in user_connections(session, installation)] == log.holders
        assert log.sync == installation.sync_values, slug


def test_the_generated_log_reads_like_everyday_work(large_demo, session):
    events = session.scalars(select(Event).where(Event.workspace_id == large_demo.id)
                             .order_by(Event.id)).all()
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events), \
        "ids follow time"
    activities = Counter(e.activity for e in events)
    rare = activities["installed"] + activities["uninstalled"] + activities["reinstalled"]
    assert activities["sync_on"] + activities["sync_off"] > 10 * rare
    assert activities["reauthenticated"] > 5 * rare
    multi = {i.app_id for i in _installations(session, large_demo)
             if i.app.install_level == "multi_account"}
    assert not [e for e in events if e.app_id in multi
                and e.activity in ("disconnected", "reconnected")]
    disconnects = [e for e in events if e.activity == "disconnected"]
    assert sum(e.actor_id is None for e in disconnects) > len(disconnects) / 2
    admins = set(session.scalars(select(User.id).where(User.workspace_id == large_demo.id,
                                                       User.role != "user")))
    toggles = [e for e in events if e.activity in ("sync_on", "sync_off")]
    assert toggles and all(e.actor_id in admins for e in toggles)
    user_grants = [e for e in events if e.details == {"user_grant": True}
                   and e.activity == "installed"]
    assert len({e.actor_id for e in user_grants}) >= 2
