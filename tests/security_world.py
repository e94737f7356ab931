"""Shared by the security and robustness tests: two workspaces full of objects, and snapshots.

Acme holds one object of every kind a URL can name (installations of each install level, grants,
external accounts, events, alerts, a notification rule, in-app notifications, a team); Globex holds
its own, so another workspace's ids are real ids, not merely missing ones.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import text

from tests.conftest import make_app, make_team
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (Alert, ExternalAccount, Grant, InAppNotification, Installation,
                           LearningResource, NotificationRule, Token)
from webapp.services import lifecycle
from webapp.services.oauth.tokens import hash_secret

SYNC = [{"key": "contact_sync", "label": "Contact sync", "default": True}]

# Strings only Acme's members may ever see (Globex shares the marketplace, so app names are not here).
ACME_PRIVATE = ("Alice Super", "Bob Admin", "Carol User", "alice@acme.test", "Acme Avengers",
                "Acme Rule Secret", "Acme Notice Secret", "Acme on LinkedIn", "Acme alert secret")
# Installed in Acme only (Globex has Notes Newt and Social Swan too).
ACME_APP_NAMES = ("Ledger Lynx", "Retired Raven")

# What a GET must never change: every table a view could write to.
WATCHED_TABLES = ("events", "installations", "grants", "oauth_codes", "oauth_tokens", "deliveries",
                  "notification_rules", "notification_rule_apps", "notification_rule_users",
                  "notification_rule_teams", "inapp_notifications", "external_accounts", "alerts",
                  "users", "teams", "team_members", "apps", "workspaces")


@dataclass
class World:
    acme_slugs: list[str]
    globex_slug: str
    listed_slug: str  # in the marketplace, installed nowhere
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    external_id: str = "li-acme-1"
    api_tokens: dict[str, str] = field(default_factory=dict)  # a multi-account app's, per workspace


def _grant_of(session, app, user) -> Grant:
    return lifecycle.consent(session, user.workspace, app, user, app.all_scopes)


def _access_token(session, grant: Grant) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(Token(grant_id=grant.id, app_id=grant.app_id, workspace_id=grant.workspace_id,
                      user_id=grant.user_id, access_token_hash=hash_secret(raw),
                      scope=" ".join(grant.scopes), issued_at=utcnow(), expires_in=3600))
    return raw


def build_world(session, people) -> World:
    acme, globex = people["acme"], people["globex"]
    admin, user, outsider = people["admin"], people["user"], people["outsider"]
    ledger = make_app(session, "ledger-lynx", name="Ledger Lynx", sync_settings=SYNC)
    notes = make_app(session, "notes-newt", name="Notes Newt", install_level="user")
    social = make_app(session, "social-swan", name="Social Swan", install_level="multi_account")
    raven = make_app(session, "retired-raven", name="Retired Raven")
    gizmo = make_app(session, "globex-gizmo", name="Globex Gizmo", sync_settings=SYNC)
    listed = make_app(session, "listed-lark", name="Listed Lark", install_level="user")
    session.add(LearningResource(app_id=ledger.id, title="Ledger basics",
                                 url="https://example.com/ledger", minutes=3))

    _grant_of(session, ledger, admin)
    user_grant = _grant_of(session, notes, user)
    admin_grant = _grant_of(session, notes, admin)
    social_grant = _grant_of(session, social, admin)
    raven_grant = _grant_of(session, raven, admin)
    lifecycle.uninstall(session, session.get(Installation, raven_grant.installation_id), admin)
    globex_grant = _grant_of(session, gizmo, outsider)
    globex_notes = _grant_of(session, notes, outsider)
    globex_social = _grant_of(session, social, outsider)
    tokens = {"acme": _access_token(session, social_grant),
              "globex": _access_token(session, globex_social)}

    account = ExternalAccount(workspace_id=acme.id, installation_id=social_grant.installation_id,
                              external_id="li-acme-1", name="Acme on LinkedIn")
    alert = Alert(workspace_id=acme.id, installation_id=user_grant.installation_id, source="app",
                  key="secret", title="Acme alert secret")
    team = make_team(session, acme, "Acme Avengers", [user, admin])
    globex_team = make_team(session, globex, "Globex Guild", [outsider])
    session.add_all([account, alert])
    acme_rule = NotificationRule(workspace_id=acme.id, name="Acme Rule Secret",
                                 rule_type="app_install", frequency="day",
                                 channels=["email", "in_app"], audience="specific",
                                 created_by_id=admin.id, evaluated_until=utcnow())
    acme_rule.apps = [ledger]
    acme_rule.users = [user]
    acme_rule.teams = [team]
    globex_rule = NotificationRule(workspace_id=globex.id, name="Globex Rule", rule_type="app_install",
                                   frequency="day", channels=["in_app"], audience="everyone",
                                   created_by_id=outsider.id, evaluated_until=utcnow())
    session.add_all([acme_rule, globex_rule])
    notices = {}
    for key, person in (("user", user), ("admin", admin), ("outsider", outsider)):
        title = "Globex notice" if key == "outsider" else "Acme Notice Secret"
        notice = InAppNotification(workspace_id=person.workspace_id, user_id=person.id, title=title,
                                   body="Something happened.", link="/settings/connected-apps/")
        session.add(notice)
        session.flush()
        notices[key] = notice.id
    session.commit()
    return World(
        acme_slugs=[ledger.slug, notes.slug, social.slug, raven.slug], globex_slug=gizmo.slug,
        listed_slug=listed.slug, api_tokens=tokens,
        ids={"grant": {"acme_user": user_grant.id, "acme_admin": admin_grant.id,
                       "globex": globex_notes.id, "globex_other": globex_grant.id},
             "rule": {"acme": acme_rule.id, "globex": globex_rule.id},
             "notification": {"acme_user": notices["user"], "acme_admin": notices["admin"],
                              "globex": notices["outsider"]},
             "team": {"acme": team.id, "globex": globex_team.id}})


def snapshot() -> dict[str, list]:
    """Every row of the watched tables, read through a connection of its own (committed state)."""
    rows = {}
    with db.engine.connect() as connection:
        for table in WATCHED_TABLES:
            rows[table] = sorted(
                (tuple(map(repr, row)) for row in connection.execute(text(f"SELECT * FROM {table}"))))
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return [table for table in before if before[table] != after[table]]


def csrf_token_of(html: str) -> str | None:
    found = re.search(r'"X-CSRFToken": "([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    return found.group(1) if found else None
