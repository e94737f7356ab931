"""Overview and My apps, as each role sees them."""
import re

import pytest

from tests.conftest import make_app, make_installation, make_user
from tests.page_helpers import seed_console, statements, text
from webapp.services.events import record_event

ROLES = ("super_admin", "admin", "user")
BASE = "/settings/connected-apps"


def summary_numbers(html):
    return {label: int(number) for label, number in
            re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html)}


def table_rows(html, table_id="my-apps-table"):
    start = html.index(f'id="{table_id}"')
    return re.findall(r"<tr>\s*<td>", html[start:])


@pytest.fixture
def console(session, people):
    return seed_console(session, people)


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


def test_overview_query_count_does_not_grow_with_installations_or_events(people, browser, session):
    b = browser(people["admin"])

    def install(count, start):
        for n in range(start, start + count):
            installation = make_installation(session, people["acme"], make_app(session, f"ov-{n:02d}"))
            for _ in range(3):
                record_event(session, installation, "installed", people["admin"].id)
        make_app(session, f"catalogue-{start:02d}")
        session.commit()

    install(3, 0)
    with statements() as few:
        assert b.get(f"{BASE}/").status_code == 200
    install(12, 3)
    with statements() as many:
        assert b.get(f"{BASE}/").status_code == 200
    assert len(few) == len(many)
