"""Who may do what, across the whole console: role checks on every write, workspace isolation in
filters, exports and notifications, and secrets that are neither stored in clear nor logged."""
from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from sqlalchemy import select, text

from tests.html import alerts
from tests.oauth.conftest import SECRET, OAuthFlow, client_app  # noqa: F401  (fixture)
from tests.route_walk import rules_of, urls_for
from tests.security_world import (ACME_PRIVATE, WATCHED_TABLES, build_world, changed_tables,
                                  snapshot)
from webapp.extensions import db
from webapp.models import InAppNotification


def text_of(response) -> str:
    return response.get_data(as_text=True)


# 4. Role checks on every write ----------------------------------------------------------------

# Writes meant for every member (their own connection, consent to a user-level app, their own
# notifications, logging in and out) and those called by programs with their own credentials.
FOR_EVERY_USER = {"auth.login", "auth.logout", "connected_apps.disconnect_my_connection",
                  "oauth.authorize", "notifications.read_all", "notifications.open_notification",
                  "settings.account_password", "settings.account_end_other_sessions"}
PROGRAMS = {"oauth.token", "oauth.revoke", "oauth.introspect", "api.add_account",
            "api.update_account", "api.remove_account", "api.report_alert", "api.resolve_alert"}
ADMIN_ONLY_PAGES = {"notifications.new_rule", "notifications.manage_rule"}


def test_a_plain_user_gets_403_from_every_admin_write(app, session, people, browser):
    world = build_world(session, people)
    carol = browser(people["user"])
    answered = {}
    before = snapshot()
    for rule, method in rules_of(app):
        writes = method != "GET"
        if (writes and rule.endpoint not in FOR_EVERY_USER | PROGRAMS) or \
                rule.endpoint in ADMIN_ONLY_PAGES:
            response = carol.client.open(urls_for(world, rule)[0], method=method,
                                         headers={"X-CSRFToken": carol.csrf_token}, data={})
            answered[(method, rule.rule)] = response.status_code
    assert answered and set(answered.values()) == {403}, answered
    assert not changed_tables(before, snapshot())
    writes = {r.endpoint for r, m in rules_of(app) if m != "GET"}
    assert FOR_EVERY_USER | PROGRAMS <= writes, "an exception names a route that no longer exists"


def test_a_user_disconnects_only_their_own_connection(session, people, browser):
    world = build_world(session, people)
    carol = browser(people["user"])
    url = "/settings/connected-apps/apps/notes-newt/connections/{}/disconnect"
    assert carol.post(url.format(world.ids["grant"]["acme_admin"])).status_code == 403
    assert carol.post(url.format(world.ids["grant"]["globex"])).status_code == 404
    assert carol.post(url.format(world.ids["grant"]["acme_user"])).status_code == 303


def test_an_outsider_gets_404_for_every_write_on_acme_objects(app, session, people, browser):
    world = build_world(session, people)
    olga = browser(people["outsider"])
    before = snapshot()
    for rule, method in rules_of(app):
        if method == "GET" or not rule.arguments or rule.endpoint in PROGRAMS:
            continue
        url = urls_for(world, rule)[0]
        if "notes-newt" in url or "social-swan" in url:
            continue  # Globex has these installed too
        response = olga.client.open(url, method=method, headers={"X-CSRFToken": olga.csrf_token})
        assert response.status_code == 404, (method, url, response.status_code)
    assert not changed_tables(before, snapshot())


# Another workspace's ids in filters and exports --------------------------------------------

def test_acme_ids_in_an_outsiders_filters_and_export_show_nothing_of_acme(session, people, browser):
    from webapp.models import App

    build_world(session, people)
    ledger = session.scalar(select(App).where(App.slug == "ledger-lynx"))
    olga = browser(people["outsider"])
    query = urlencode({"app": ledger.id, "user": people["user"].id, "activity": "installed"})
    for url in (f"/settings/connected-apps/?{query}", f"/settings/connected-apps/log.csv?{query}",
                f"/settings/connected-apps/apps/notes-newt?{query}"):
        response = olga.get(url)
        body = text_of(response)
        assert response.status_code == 400, url
        assert alerts(response) == ["That user is not part of this workspace."], url
        assert not [s for s in ACME_PRIVATE if s in body], url
    export = olga.get("/settings/connected-apps/log.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert not [s for s in ACME_PRIVATE if s in text_of(export)]
    assert "Ledger Lynx" not in text_of(olga.get("/settings/connected-apps/log.csv"))


def test_a_user_cannot_open_someone_elses_notification(session, people, browser):
    world = build_world(session, people)
    carol = browser(people["user"])
    assert carol.post(f"/notifications/{world.ids['notification']['acme_admin']}/open").status_code == 404
    assert carol.post(f"/notifications/{world.ids['notification']['globex']}/open").status_code == 404
    session.expire_all()
    assert session.get(InAppNotification, world.ids["notification"]["acme_admin"]).read_at is None


# 5. Secrets: hashed at rest, absent from logs -------------------------------------------------

def all_stored_text() -> str:
    with db.engine.connect() as connection:
        return json.dumps({table: [list(map(str, row)) for row in
                                   connection.execute(text(f"SELECT * FROM {table}"))]
                           for table in db.metadata.tables})


def test_codes_tokens_and_client_secrets_are_never_stored_or_logged_in_clear(
        client_app, browser, people, session, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    flow = OAuthFlow(client_app, browser(people["admin"]), people["admin"])
    code = flow.code()
    tokens = flow.exchange(code).get_json()
    refreshed = flow.refresh(tokens["refresh_token"]).get_json()
    assert flow.exchange(code).status_code == 400  # the replay revokes, and is logged if anything
    assert flow.refresh(tokens["refresh_token"]).status_code == 400
    flow.introspect(refreshed["access_token"])
    flow.browser.client.get("/api/v1/accounts",
                            headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    flow.revoke(refreshed["refresh_token"])
    flow.introspect(refreshed["access_token"])
    secrets_seen = [code, tokens["access_token"], tokens["refresh_token"],
                    refreshed["access_token"], refreshed["refresh_token"], SECRET]
    assert set(WATCHED_TABLES) <= set(db.metadata.tables)
    stored = all_stored_text()
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in stored
        assert secret not in logged


def test_apps_register_shows_the_client_secret_once_and_stores_its_hash(app, session, people,
                                                                        tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    manifest = {"slug": "acme-sync", "name": "Acme Sync", "vendor": "Acme", "category": "Sales",
                "description": "Sync.", "version": "1.0.0", "install_level": "account",
                "install_url": "http://127.0.0.1:8900/install",
                "redirect_uris": ["http://127.0.0.1:8900/callback"],
                "scopes": {"required": ["contacts.read"], "conditional_required": [],
                           "optional": []},
                "health_url": None, "webhook_url": None, "sync_settings": [], "resources": []}
    manifest["scopes"]["conditionally_required"] = manifest["scopes"].pop("conditional_required")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    result = app.test_cli_runner().invoke(args=["apps", "register", str(path)])
    assert result.exit_code == 0, result.output
    secret = json.loads(result.stdout)["client_secret"]
    assert len(secret) >= 32
    assert secret not in all_stored_text()
    assert secret not in caplog.text
