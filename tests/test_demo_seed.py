"""`flask demo seed`: a believable, idempotent demo workspace and its log."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.html import region, terms
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    Alert, App, Event, ExternalAccount, Grant, Installation, LearningResource, Scope, Team, User,
    Workspace)
from webapp.models.workspace import plan_rank
from webapp.services.accounts import authenticate
from webapp.services.demo import seed_demo
from webapp.models.installation import ACCOUNT_STATUSES

EVENTS = 300


@pytest.fixture
def demo(session):
    result = seed_demo(session, event_count=EVENTS)
    return result, session.scalar(select(Workspace).where(Workspace.slug == "demo"))


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
    assert all(app.client_secret_hash is None for app in apps)
    assert all(app.install_url is None for app in apps)  # nothing answers behind invented apps
    assert all(uri.startswith("http://127.0.0.1:89") for app in apps for uri in app.redirect_uris)
    known_scopes = set(session.scalars(select(Scope.name)))
    assert all(set(app.all_scopes) <= known_scopes and app.required_scopes for app in apps)
    assert sum(bool(app.sync_settings) for app in apps) >= 5
    assert all(1 <= len(app.resources) <= 3 for app in apps)
    general = session.scalars(select(LearningResource).where(LearningResource.app_id.is_(None))).all()
    assert 4 <= len(general) <= 6
    everything = session.scalars(select(LearningResource)).all()
    assert all(r.url.startswith("https://example.com/") and r.minutes > 0 for r in everything)


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
    assert len(events) == EVENTS + result.history_events
    assert result.history_events >= len(_installations(session, workspace))
    app_ids = {i.app_id for i in _installations(session, workspace)}
    user_ids = set(session.scalars(select(User.id).where(User.workspace_id == workspace.id)))
    now = utcnow()
    assert all(e.app_id in app_ids for e in events)
    assert all(e.actor_id is None or e.actor_id in user_ids for e in events)
    assert any(e.actor_id is None for e in events)
    assert all(now - timedelta(days=90) <= e.occurred_at <= now for e in events)
    activities = Counter(e.activity for e in events)
    assert len(activities) == 8 and activities["sync_on"] > activities["uninstalled"]
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


def test_seeding_twice_creates_nothing_twice(demo, session):
    before = _counts(session)
    again = seed_demo(session, event_count=EVENTS)
    assert _counts(session) == before
    assert (again.apps_created, again.installations_created) == (0, 0)
    assert again.existing_events == before["Event"] and again.generated_events == 0


def test_the_command_seeds_sets_passwords_and_reports(app, browser):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed", "--events", "120", "--password", "open-sesame-42"])
    assert first.exit_code == 0, first.output
    assert "120 over 90 days" in first.output and "installations" in first.output
    with app.app_context():
        for email in ("superadmin@example.com", "admin@example.com", "user@example.com"):
            assert authenticate(db.session, email, "open-sesame-42") is not None
        assert authenticate(db.session, "sam.whitaker@example.com", "open-sesame-42") is None
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        assert admin.password_hash.startswith("scrypt:")
        events_after_first_run = db.session.scalar(select(func.count()).select_from(Event))
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


def _replay(installation, events) -> tuple[str | None, bool, dict]:
    """Walks one app's log through the lifecycle's rules; returns (state, connected, sync values)
    at its end, or fails at the first step the lifecycle could not have taken."""
    app = installation.app
    keys = {s["key"] for s in app.sync_settings}
    sync = {s["key"]: s["default"] for s in app.sync_settings}
    state, connected = None, False
    for event in events:
        where = f"{app.slug} event {event.id} {event.activity} after {state}/{connected}"
        activity = event.activity
        if activity == "installed" and state is None:
            state, connected = "installed", True
        elif activity == "installed":
            assert app.install_level == "user" and event.details == {"user_grant": True}, where
            assert state == "installed" and connected, where
        elif activity == "reinstalled":
            assert state == "uninstalled", where
            state, connected = "installed", True
        elif activity == "uninstalled":
            assert state == "installed", where
            state = "uninstalled"
        elif activity in ("disconnected", "reconnected"):
            assert app.install_level != "multi_account", where
            assert state == "installed" and connected == (activity == "disconnected"), where
            connected = activity == "reconnected"
        elif activity == "reauthenticated":
            assert state == "installed" and connected, where
        else:
            key = event.details["key"]
            assert state == "installed" and key in keys, where
            assert sync[key] != (activity == "sync_on"), where
            sync[key] = activity == "sync_on"
    return state, connected, sync


@pytest.fixture
def large_demo(session):
    seed_demo(session, event_count=2000)
    return session.scalar(select(Workspace).where(Workspace.slug == "demo"))


def test_every_app_log_replays_into_its_installation(large_demo, session):
    for installation in _installations(session, large_demo):
        events = session.scalars(select(Event).where(
            Event.workspace_id == large_demo.id, Event.app_id == installation.app_id)
            .order_by(Event.occurred_at, Event.id)).all()
        assert events[0].activity == "installed", installation.app.slug
        times = [e.occurred_at for e in events]
        assert times == sorted(set(times)), f"{installation.app.slug}: one event at a time"
        state, connected, sync = _replay(installation, events)
        assert state == installation.state, installation.app.slug
        if installation.shows_status:
            assert connected == (installation.status != "disconnected"), installation.app.slug
        assert sync == installation.sync_values, installation.app.slug


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
