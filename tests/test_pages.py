"""Overview, My apps and the app page, as each role sees them."""
import re
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from tests.conftest import make_app, make_installation, make_user
from webapp.extensions import db
from webapp.models import Alert, ExternalAccount, LearningResource

ROLES = ("super_admin", "admin", "user")
BASE = "/settings/connected-apps"


@contextmanager
def statements():
    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)


def text(response):
    return response.get_data(as_text=True)


def summary_numbers(html):
    return {label: int(number) for label, number in
            re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html)}


def table_rows(html, table_id="my-apps-table"):
    start = html.index(f'id="{table_id}"')
    return re.findall(r"<tr>\s*<td>", html[start:])


@pytest.fixture
def console(session, people):
    """Acme with installations in every status and flag, a multi-account and an uninstalled app."""
    acme = people["acme"]
    made = {}
    specs = [
        ("crm-sync", dict(), dict(status="connected")),
        ("mail-bridge", dict(), dict(status="error", update_available=True)),
        ("drive-link", dict(install_level="user"), dict(status="expired", upgrade_available=True)),
        ("chat-ops", dict(), dict(status="disconnected")),
        ("social-hub", dict(install_level="multi_account"), dict(status="connected")),
        ("old-tool", dict(), dict(state="uninstalled", status="disconnected",
                                  uninstalled_at=datetime(2026, 11, 20, tzinfo=timezone.utc))),
    ]
    for slug, app_fields, fields in specs:
        app = make_app(session, slug, **app_fields)
        made[slug] = make_installation(session, acme, app, installed_by=people["admin"], **fields)
    make_app(session, "not-installed", category="Finance")
    made["globex-only"] = make_installation(session, people["globex"],
                                            make_app(session, "globex-only"), status="error")
    session.add_all([
        LearningResource(title="Connected apps in 5 minutes", url="https://example.com/a", minutes=5),
        LearningResource(title="Securing app access", url="https://example.com/b", minutes=8,
                         position=1),
    ])
    session.commit()
    return made


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_overview(people, console, browser, role):
    response = browser(people[role]).get(f"{BASE}/")
    html = text(response)
    assert response.status_code == 200
    for heading in ("App summary", "App log", "Learn more with Academy", "Discover apps"):
        assert f">{heading}</h2>" in html
    assert summary_numbers(html) == {"Connected apps": 4, "Disconnected": 2, "Errors": 1,
                                     "Updates available": 1, "Upgrades available": 1}
    assert 'role="tab"' in html and ">Overview</a>" in html and ">My apps</a>" in html
    assert "Visit marketplace" in html


def test_overview_lists_academy_resources_with_their_length(people, console, browser):
    html = text(browser(people["user"]).get(f"{BASE}/"))
    assert '<a href="https://example.com/a"' in html
    assert "Connected apps in 5 minutes</a> <span class=\"muted\">5 min</span>" in html
    assert html.index("Connected apps in 5 minutes") < html.index("Securing app access")


def test_discover_apps_link_to_listings_of_apps_not_installed(people, console, browser):
    html = text(browser(people["admin"]).get(f"{BASE}/"))
    discover = html[html.index("Discover apps"):]
    assert 'href="/marketplace/not-installed"' in discover
    assert 'href="/marketplace/old-tool"' in discover  # uninstalled counts as not installed
    assert "/marketplace/crm-sync" not in discover


def test_discover_apps_is_hidden_when_everything_is_installed(people, browser, session):
    make_installation(session, people["acme"], make_app(session, "only-one"))
    session.commit()
    assert "Discover apps" not in text(browser(people["admin"]).get(f"{BASE}/"))


@pytest.mark.parametrize("role", ROLES)
def test_my_apps_lists_installed_apps_with_status_dates_and_installer(people, console, browser,
                                                                      role):
    html = text(browser(people[role]).get(f"{BASE}/my-apps"))
    for column in ("App", "Status", "Installed", "Installed by"):
        assert f'<th scope="col">{column}</th>' in html
    assert len(table_rows(html)) == 5
    assert f'href="{BASE}/apps/crm-sync">Crm Sync</a>' in html
    assert "Old Tool" not in html and "Globex Only" not in html
    assert 'datetime="2026-11-01T09:00:00Z">Nov 1, 2026</time>' in html
    assert "<td>Bob Admin</td>" in html
    assert ">Update available<" in html and ">Upgrade available<" in html
    assert 'aria-selected="true">My apps</a>' in html


def test_my_apps_rows_with_a_status_agree_with_the_summary(people, console, browser):
    b = browser(people["admin"])
    numbers = summary_numbers(text(b.get(f"{BASE}/")))
    html = text(b.get(f"{BASE}/my-apps"))
    badges = re.findall(r'class="badge status-(\w+)"', html[html.index('id="my-apps-table"'):])
    assert len(badges) == numbers["Connected apps"]
    assert badges.count("disconnected") + badges.count("expired") == numbers["Disconnected"]
    assert badges.count("error") == numbers["Errors"]
    assert html.count(">Update available<") == numbers["Updates available"]
    assert html.count(">Upgrade available<") == numbers["Upgrades available"]
    # The multi-account app has no status, only its connection to manage.
    row = re.search(r"Social Hub</a>.*?</tr>", html, re.S).group(0)
    assert "Manage connection" in row and "badge status-" not in row


@pytest.mark.parametrize("status, apps", [("connected", ["Crm Sync"]), ("error", ["Mail Bridge"]),
                                          ("expired", ["Drive Link"]),
                                          ("disconnected", ["Chat Ops"])])
def test_my_apps_status_filter_as_htmx_fragment(people, console, browser, status, apps):
    response = browser(people["user"]).get(f"{BASE}/my-apps?status={status}",
                                           htmx_target="my-apps-table")
    html = text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="my-apps-table">')
    assert "<h1>" not in html and "<select" not in html
    assert re.findall(r'">([^<]+)</a>\s*<div class="muted small">', html) == apps
    assert "HX-Request" in response.headers["Vary"]


def test_my_apps_filter_is_restored_on_full_load(people, console, browser):
    html = text(browser(people["admin"]).get(f"{BASE}/my-apps?status=error"))
    assert "<h1>Connected apps</h1>" in html
    assert '<option value="error" selected>Error</option>' in html
    assert '<option value="" >All</option>' in html
    assert len(table_rows(html)) == 1 and "Mail Bridge" in html
    assert 'hx-push-url="true"' in html and 'hx-target="#my-apps-table"' in html


def test_my_apps_empty_filter_says_so(people, browser, session):
    make_installation(session, people["acme"], make_app(session, "fine-app"))
    session.commit()
    html = text(browser(people["admin"]).get(f"{BASE}/my-apps?status=error",
                                             htmx_target="my-apps-table"))
    assert "No installed app has the status Error" in html


@pytest.mark.parametrize("htmx_target", [None, "my-apps-table"])
def test_my_apps_unknown_status_is_a_400_with_a_message(people, console, browser, htmx_target):
    response = browser(people["admin"]).get(f"{BASE}/my-apps?status=installed",
                                            htmx_target=htmx_target)
    assert response.status_code == 400
    assert "Unknown status" in text(response)


def test_my_apps_query_count_does_not_grow_with_installations(people, browser, session):
    b = browser(people["admin"])

    def install(count, start):
        for n in range(start, start + count):
            installer = make_user(session, people["acme"], f"installer{n}@acme.test")
            app = make_app(session, f"bulk-{n:02d}", install_level="user" if n % 2 else "account")
            make_installation(session, people["acme"], app, installed_by=installer,
                              status="error" if n % 3 else "connected")
        session.commit()

    install(3, 0)
    with statements() as few:
        assert len(table_rows(text(b.get(f"{BASE}/my-apps")))) == 3
    install(12, 3)
    with statements() as many:
        assert len(table_rows(text(b.get(f"{BASE}/my-apps")))) == 15
    assert len(few) == len(many)
    assert not [sql for sql in many if "events" in sql.lower()]


def test_outsider_sees_none_of_acmes_installations(people, console, browser):
    b = browser(people["outsider"])
    html = text(b.get(f"{BASE}/my-apps"))
    assert "Globex Only" in html and "Crm Sync" not in html
    numbers = summary_numbers(text(b.get(f"{BASE}/")))
    assert numbers["Connected apps"] == 1 and numbers["Errors"] == 1


def test_pages_need_login(app, console):
    client = app.test_client()
    for url in (f"{BASE}/", f"{BASE}/my-apps", f"{BASE}/apps/crm-sync"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


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
    session.add_all([
        Alert(workspace_id=installation.workspace_id, installation_id=installation.id,
              kind="refresh_failed", message="The refresh token was refused.",
              first_seen=datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc), last_seen=seen),
        Alert(workspace_id=installation.workspace_id, installation_id=installation.id,
              kind="health", message="Resolved long ago.", first_seen=seen, last_seen=seen,
              resolved_at=seen),
        LearningResource(app_id=app.id, title="Crm Sync setup", url="https://example.com/crm",
                         minutes=4),
    ])
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
    assert '<span class="badge status-connected">Connected</span>' in status
    assert "The refresh token was refused." in status and "Resolved long ago." not in status
    assert "Refresh failed" in status
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
                                                         ("Acme Jobs", "expired")])])
    session.commit()
    html = text(browser(people["user"]).get(f"{BASE}/apps/social-hub"))
    status = section(html, "App status")
    assert "badge status-" not in status
    assert '<a href="#manage-connection">Manage connection</a>' in status
    assert "<dd>2 " in status
    accounts = html[html.index('id="manage-connection"'):]
    assert "Acme Jobs" in accounts and "Acme on Social" in accounts
    assert '<span class="badge status-expired">Expired</span>' in accounts


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
