"""The page of one installed app: status, alerts, log, scopes, sync settings, resources."""
from datetime import datetime, timezone

import pytest

from tests.html import (by_role, column_headers, fragment_root, heading, is_full_page, link, one,
                        parse, region, table_rows, terms, text_of)
from tests.page_helpers import seed_console
from webapp.models import ROLES, ExternalAccount, LearningResource
from webapp.services import alerts

BASE = "/settings/connected-apps"


@pytest.fixture
def console(session, people):
    return seed_console(session, people)


@pytest.fixture
def detailed(session, people, console):
    """crm-sync with scopes in every group, alerts, sync settings and its own resources."""
    installation = console["crm-sync"]
    app = installation.app
    app.required_scopes = ["contacts.read"]
    app.conditional_scopes = ["files.read"]
    app.optional_scopes = ["contacts.write", "audit_logs.read"]
    app.version = "2.0.0"
    app.sync_settings = [{"key": "contact_sync", "label": "Contact sync", "default": True},
                         {"key": "deal_sync", "label": "Deal sync", "default": False}]
    installation.installed_version = "1.0.0"
    installation.granted_scopes = ["contacts.read"]
    installation.sync_values = {"contact_sync": False, "deal_sync": True}
    seen = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
    alerts.open_or_bump(session, installation, "health", "health", "Resolved long ago.", now=seen)
    alerts.resolve(session, installation, "health", "health", now=seen)
    alerts.open_or_bump(session, installation, "app", "sync", "Deal sync is failing",
                        "The app reported 3 failed syncs.",
                        now=datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc))
    alerts.open_or_bump(session, installation, "app", "sync", "Deal sync is failing",
                        "The app reported 3 failed syncs.", now=seen)
    session.add(LearningResource(app_id=app.id, title="Crm Sync setup",
                                 url="https://example.com/crm", minutes=4))
    session.commit()
    return installation


def scopes_in(group) -> list[str]:
    return [text_of(code) for code in group.find_all("code")]


def badge_words(facts: dict[str, str]) -> dict[str, str]:
    """Each sync setting's state as its badge says it (the first word; a toggle may follow)."""
    return {label: value.split()[0] for label, value in facts.items()}


@pytest.mark.parametrize("role", ROLES)
def test_app_page_shows_status_alerts_scopes_sync_and_resources(people, detailed, browser, role):
    response = browser(people[role]).get(f"{BASE}/apps/crm-sync")
    html = parse(response)
    assert response.status_code == 200
    assert heading(html, "Crm Sync", level=1)
    status = region(html, "App status")
    facts = terms(status)
    assert facts["Status"] == "Error"
    assert (facts["Installed version"], facts["Latest version"]) == ("1.0.0", "2.0.0 (newer than installed)")
    assert column_headers(status, "Open alerts") == ["Alert", "Source", "First seen", "Last seen"]
    assert table_rows(status, "Open alerts") == [[
        "Deal sync is failing The app reported 3 failed syncs.", "Reported by the app",
        "25 Nov 2026, 07:00", "27 Nov 2026, 08:30"]]  # not the resolved one
    access = region(html, "App access and permissions")
    authorized = one(access, "group", "Authorized (1)")
    assert scopes_in(authorized) == ["contacts.read"]
    assert "Read contacts and their properties" in text_of(authorized)
    upgrade = one(access, "group", "Requires upgrade (1)")
    assert scopes_in(upgrade) == ["audit_logs.read"] and "Needs the Enterprise plan" in text_of(upgrade)
    reauth = one(access, "group", "Available after re-authentication (2)")
    assert scopes_in(reauth) == ["files.read", "contacts.write"]
    [write] = [item for item in by_role(reauth, "listitem") if "contacts.write" in text_of(item)]
    assert text_of(write).endswith(" Write")  # its sensitivity
    assert badge_words(terms(region(html, "Sync settings"))) == {"Contact sync": "Off", "Deal sync": "On"}
    assert link(region(html, "Learn more with Academy"), "Crm Sync setup")
    assert region(html, "App log")


def test_app_page_empty_scope_groups_say_so(people, console, browser, session):
    installation = console["chat-ops"]
    installation.granted_scopes = ["contacts.read", "contacts.write"]
    session.commit()
    access = region(browser(people["admin"]).get(f"{BASE}/apps/chat-ops"), "App access and permissions")
    assert text_of(one(access, "group", "Requires upgrade (0)")) == \
        "Requires upgrade (0) Nothing the app asks for is beyond the Professional plan."
    assert text_of(one(access, "group", "Available after re-authentication (0)")) == \
        "Available after re-authentication (0) Nothing new to authorize."
    assert "No open alerts" not in text_of(access)


def test_app_page_of_a_multi_account_app_shows_accounts_instead_of_status(people, console, browser,
                                                                          session):
    installation = console["social-hub"]
    session.add_all([ExternalAccount(workspace_id=installation.workspace_id,
                                     installation_id=installation.id, external_id=str(n),
                                     name=name, status=status)
                     for n, (name, status) in enumerate([("Acme on Social", "connected"),
                                                         ("Acme Jobs", "error")])])
    session.commit()
    html = parse(browser(people["user"]).get(f"{BASE}/apps/social-hub"))
    status = region(html, "App status")
    assert "Status" not in terms(status)
    assert terms(status)["External accounts"] == "2 Manage connection"
    assert link(status, "Manage connection")["href"] == "#manage-connection"
    accounts = region(html, "Manage connection")
    assert accounts["id"] == "manage-connection"
    assert sorted((row[0], row[2]) for row in table_rows(accounts)) == [
        ("Acme Jobs", "Error"), ("Acme on Social", "Connected")]


def test_app_page_of_an_uninstalled_app_says_so_without_status(people, console, browser):
    response = browser(people["admin"]).get(f"{BASE}/apps/old-tool")
    status = region(response, "App status")
    assert response.status_code == 200
    assert terms(status)["State"] == "Uninstalled since Nov 20, 2026"
    assert "Status" not in terms(status) and "Open alerts" not in text_of(status)
    access = region(response, "App access and permissions")
    assert text_of(one(access, "group", "Authorized (0)")) == (
        "Authorized (0) No scopes are authorized: the app is uninstalled.")
    # Installing again asks for everything afresh: nothing waits for a re-authentication.
    assert text_of(one(access, "group", "Available after re-authentication (0)")) == (
        "Available after re-authentication (0) Installing the app again asks for every scope "
        "afresh.")
    assert link(status, "Install again")["href"] == "http://127.0.0.1:8900/old-tool/install?workspace=acme"


def test_an_uninstalled_app_without_an_install_page_says_why_it_offers_no_install_again(
        people, console, browser, session):
    console["old-tool"].app.install_url = None
    session.commit()
    status = region(browser(people["admin"]).get(f"{BASE}/apps/old-tool"), "App status")
    assert not by_role(status, "link", "Install again")
    assert ("This app has no install page registered, so it cannot be installed again from here."
            in text_of(status))


@pytest.mark.parametrize("slug, unusable", [("chat-ops", True), ("drive-link", True),
                                            ("mail-bridge", False), ("crm-sync", False)])
def test_scopes_of_an_app_without_a_usable_token_are_not_usable_until_reconnected(
        people, console, browser, slug, unusable):
    access = region(browser(people["user"]).get(f"{BASE}/apps/{slug}"), "App access and permissions")
    authorized = one(access, "group", "Authorized (1)")
    assert scopes_in(authorized) == ["contacts.read"]
    assert ("Not usable until reconnected" in text_of(authorized)) is unusable


@pytest.mark.parametrize("slug", ["not-installed", "no-such-app", "globex-only"])
def test_app_page_of_an_app_not_installed_here_is_404(people, console, browser, slug):
    response = browser(people["admin"]).get(f"{BASE}/apps/{slug}")
    assert response.status_code == 404
    assert "not installed in your workspace" in text_of(parse(response))


@pytest.mark.parametrize("slug", ["crm-sync", "mail-bridge", "drive-link", "chat-ops",
                                  "social-hub", "old-tool"])
def test_outsider_gets_404_for_every_acme_app_page(people, console, browser, slug):
    b = browser(people["outsider"])
    assert b.get(f"{BASE}/apps/{slug}").status_code == 404
    assert b.get(f"{BASE}/apps/{slug}", htmx_target="app-log-table").status_code == 404


def test_app_page_log_fragment_is_the_log_table_only(people, detailed, browser):
    response = browser(people["admin"]).get(f"{BASE}/apps/crm-sync", htmx_target="app-log-table")
    assert response.status_code == 200
    assert fragment_root(response)["id"] == "app-log-table" and not is_full_page(response)
    assert by_role(response, "heading") == [] and "App status" not in text_of(parse(response))
