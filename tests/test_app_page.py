"""The page of one installed app: status, alerts, log, scopes, sync settings, resources."""
import re
from datetime import datetime, timezone

import pytest

from tests.page_helpers import seed_console, text
from webapp.models import ExternalAccount, LearningResource
from webapp.services import alerts

ROLES = ("super_admin", "admin", "user")
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


def section(html, heading):
    start = html.index(f">{heading}</h2>")
    return html[start:html.index("</section>", start)]


@pytest.mark.parametrize("role", ROLES)
def test_app_page_shows_status_alerts_scopes_sync_and_resources(people, detailed, browser, role):
    response = browser(people[role]).get(f"{BASE}/apps/crm-sync")
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Crm Sync</h1>" in html
    status = section(html, "App status")
    assert '<span class="badge status-error">Error</span>' in status
    assert "Deal sync is failing" in status and "Resolved long ago." not in status
    assert "The app reported 3 failed syncs." in status and "Reported by the app" in status
    assert "Nov 25, 2026 07:00 UTC" in status and "Nov 27, 2026 08:30 UTC" in status
    assert "<dd>1.0.0</dd>" in status and "2.0.0" in status
    access = section(html, "App access and permissions")
    groups = {name: access[access.index(f">{name} <"):] for name in
              ("Authorized", "Requires upgrade", "Available after re-authentication")}
    assert re.findall(r"<code>([^<]+)</code>", groups["Authorized"].split("<h3")[0]) == \
        ["contacts.read"]
    assert re.findall(r"<code>([^<]+)</code>", groups["Requires upgrade"].split("<h3")[0]) == \
        ["audit_logs.read"]
    assert "Needs the Enterprise plan" in groups["Requires upgrade"]
    assert re.findall(r"<code>([^<]+)</code>",
                      groups["Available after re-authentication"].split("<h3")[0]) == \
        ["files.read", "contacts.write"]
    assert "Read contacts and their properties" in access
    assert "sensitivity-write" in access
    sync = section(html, "Sync settings")
    assert re.findall(r"<dt>([^<]+)</dt><dd><span[^>]*>(On|Off)</span>", sync) == \
        [("Contact sync", "Off"), ("Deal sync", "On")]
    assert "Crm Sync setup</a>" in section(html, "Learn more with Academy")
    assert ">App log</h2>" in html


def test_app_page_empty_scope_groups_say_so(people, console, browser, session):
    installation = console["chat-ops"]
    installation.granted_scopes = ["contacts.read", "contacts.write"]
    session.commit()
    access = section(text(browser(people["admin"]).get(f"{BASE}/apps/chat-ops")),
                     "App access and permissions")
    assert "Nothing the app asks for is beyond the Professional plan." in access
    assert "Nothing new to authorize." in access
    assert "No open alerts" not in access


def test_app_page_of_a_multi_account_app_shows_accounts_instead_of_status(people, console, browser,
                                                                          session):
    installation = console["social-hub"]
    session.add_all([ExternalAccount(workspace_id=installation.workspace_id,
                                     installation_id=installation.id, external_id=str(n),
                                     name=name, status=status)
                     for n, (name, status) in enumerate([("Acme on Social", "connected"),
                                                         ("Acme Jobs", "error")])])
    session.commit()
    html = text(browser(people["user"]).get(f"{BASE}/apps/social-hub"))
    status = section(html, "App status")
    assert "badge status-" not in status
    assert '<a href="#manage-connection">Manage connection</a>' in status
    assert "<dd>2 " in status
    accounts = html[html.index('id="manage-connection"'):]
    assert "Acme Jobs" in accounts and "Acme on Social" in accounts
    assert '<span class="badge status-error">Error</span>' in accounts


def test_app_page_of_an_uninstalled_app_says_so_without_status(people, console, browser):
    response = browser(people["admin"]).get(f"{BASE}/apps/old-tool")
    status = section(text(response), "App status")
    assert response.status_code == 200
    assert ">Uninstalled</span>" in status and "Nov 20, 2026" in status
    assert "badge status-" not in status and "Open alerts" not in status
    access = section(text(response), "App access and permissions")
    assert "No scopes are authorized." in access


@pytest.mark.parametrize("slug", ["not-installed", "no-such-app", "globex-only"])
def test_app_page_of_an_app_not_installed_here_is_404(people, console, browser, slug):
    response = browser(people["admin"]).get(f"{BASE}/apps/{slug}")
    assert response.status_code == 404
    assert "not installed in your workspace" in text(response)


@pytest.mark.parametrize("slug", ["crm-sync", "mail-bridge", "drive-link", "chat-ops",
                                  "social-hub", "old-tool"])
def test_outsider_gets_404_for_every_acme_app_page(people, console, browser, slug):
    b = browser(people["outsider"])
    assert b.get(f"{BASE}/apps/{slug}").status_code == 404
    assert b.get(f"{BASE}/apps/{slug}", htmx_target="app-log-table").status_code == 404


def test_app_page_log_fragment_is_the_log_table_only(people, detailed, browser):
    response = browser(people["admin"]).get(f"{BASE}/apps/crm-sync", htmx_target="app-log-table")
    html = text(response)
    assert response.status_code == 200
    assert 'id="app-log-table"' in html and "<h1>" not in html and "App status" not in html
