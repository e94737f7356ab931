"""Overview and My apps, as each role sees them."""
import pytest

from tests.conftest import make_app, make_installation, make_user
from tests.html import (by_role, chosen, column_headers, description, fragment_root, heading, link,
                        names, one, options, parse, region, terms, text_of)
from tests.page_helpers import seed_console, statements
from webapp.models import ROLES
from webapp.services.events import record_event

BASE = "/settings/connected-apps"
FLAGS = ("Update available", "Upgrade available")
FIXES = ("Reconnect", "Re-authenticate")


def summary_numbers(html) -> dict[str, int]:
    return {label: int(number) for label, number in terms(region(html, "App summary")).items()}


def my_apps(html) -> list[dict]:
    """The My apps table as shown: each row's app, status (without flags and the link that fixes
    it), flags, that link, date, installer."""
    doc = parse(html)
    rows = []
    for row in (doc.find("table").find("tbody").find_all("tr") if doc.find("table") else []):
        app, status, installed, by, last_used = row.find_all("td")
        flags = [flag for flag in FLAGS if flag in text_of(status)]
        fixes = [name for name in names(status, "link") if name in FIXES]
        shown = text_of(status)
        for word in flags + fixes:
            shown = shown.replace(word, "").strip()
        rows.append({"app": names(app, "link")[0], "status": shown, "flags": flags, "fixes": fixes,
                     "installed": text_of(installed), "installed_at": installed.find("time")["datetime"],
                     "by": text_of(by), "last_used": text_of(last_used)})
    return rows


@pytest.fixture
def console(session, people):
    return seed_console(session, people)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_overview(people, console, browser, role):
    response = browser(people[role]).get(f"{BASE}/")
    html = parse(response)
    assert response.status_code == 200
    assert {"App summary", "App log", "Learn more with Academy", "Discover apps"} <= set(
        names(html, "heading", level=2))
    assert summary_numbers(html) == {"Connected apps": 4, "Disconnected": 2, "Errors": 1,
                                     "Updates available": 1, "Upgrades available": 1}
    assert names(html, "tab") == ["Overview", "My apps", "Notifications"]
    assert names(html, "tab", selected=True) == ["Overview"]
    assert link(html, "Visit marketplace")["href"] == "/marketplace/"


def test_overview_lists_academy_resources_with_their_length(people, console, browser):
    academy = region(browser(people["user"]).get(f"{BASE}/"), "Learn more with Academy")
    assert [text_of(item) for item in by_role(academy, "listitem")] == [
        "Connected apps in 5 minutes 5 min", "Securing app access 8 min"]
    assert link(academy, "Connected apps in 5 minutes")["href"] == "https://example.com/a"


def test_discover_apps_link_to_listings_of_apps_not_installed(people, console, browser):
    discover = region(browser(people["admin"]).get(f"{BASE}/"), "Discover apps")
    targets = [a["href"] for a in by_role(discover, "link")]
    assert "/marketplace/not-installed" in targets
    assert "/marketplace/old-tool" in targets  # uninstalled counts as not installed
    assert "/marketplace/crm-sync" not in targets


def test_discover_apps_says_so_when_nothing_is_left_to_install(people, browser, session):
    make_installation(session, people["acme"], make_app(session, "only-one"))
    make_app(session, "cannot-be-installed", install_url=None)
    session.commit()
    discover = region(browser(people["admin"]).get(f"{BASE}/"), "Discover apps")
    assert names(discover, "link") == ["Browse the marketplace"]
    assert "No app left to recommend: every app that can be installed from here is installed." \
        in text_of(discover)


@pytest.mark.parametrize("role", ROLES)
def test_my_apps_lists_installed_apps_with_status_dates_and_installer(people, console, browser,
                                                                      role):
    html = parse(browser(people[role]).get(f"{BASE}/my-apps"))
    assert column_headers(html) == ["App", "Status", "Installed", "Installed by", "Last used"]
    rows = my_apps(html)
    assert [r["app"] for r in rows] == ["Chat Ops", "Crm Sync", "Drive Link", "Mail Bridge", "Social Hub"]
    assert link(html, "Crm Sync")["href"] == f"{BASE}/apps/crm-sync"
    assert "Old Tool" not in text_of(html) and "Globex Only" not in text_of(html)
    assert {(r["installed"], r["installed_at"], r["by"]) for r in rows} == {
        ("Nov 1, 2026", "2026-11-01T09:00:00Z", "Bob Admin")}
    assert [(r["app"], r["flags"]) for r in rows if r["flags"]] == [
        ("Drive Link", ["Upgrade available"]), ("Mail Bridge", ["Update available"])]
    assert names(html, "tab", selected=True) == ["My apps"]


def test_my_apps_rows_with_a_status_agree_with_the_summary(people, console, browser):
    b = browser(people["admin"])
    numbers = summary_numbers(b.get(f"{BASE}/"))
    rows = my_apps(b.get(f"{BASE}/my-apps"))
    statuses = [r["status"] for r in rows if r["status"] != "Manage connection"]
    assert len(statuses) == numbers["Connected apps"]
    assert statuses.count("Disconnected") + statuses.count("Expired") == numbers["Disconnected"]
    assert statuses.count("Error") == numbers["Errors"]
    assert sum("Update available" in r["flags"] for r in rows) == numbers["Updates available"]
    assert sum("Upgrade available" in r["flags"] for r in rows) == numbers["Upgrades available"]
    # The multi-account app has no status, only its connection to manage.
    assert [r["status"] for r in rows if r["app"] == "Social Hub"] == ["Manage connection"]


@pytest.mark.parametrize("role", ROLES)
def test_each_summary_number_links_to_my_apps_listing_exactly_its_rows(people, console, browser,
                                                                       role, session):
    # A multi-account app in error and flagged stays out of both the numbers and their lists.
    make_installation(session, people["acme"], make_app(session, "multi-flagged",
                                                        install_level="multi_account"),
                      status="error", update_available=True, upgrade_available=True)
    session.commit()
    b = browser(people[role])
    summary = region(b.get(f"{BASE}/"), "App summary")
    shown = {}
    for entry in by_role(summary, "definition"):
        number = one(entry, "link")
        label = text_of(entry.find_previous_sibling("dt"))
        assert description(number) == label
        rows = my_apps(b.get(number["href"]))
        shown[label] = (int(text_of(number)), [r["app"] for r in rows])
    assert shown == {"Connected apps": (4, ["Chat Ops", "Crm Sync", "Drive Link", "Mail Bridge"]),
                     "Disconnected": (2, ["Chat Ops", "Drive Link"]),
                     "Errors": (1, ["Mail Bridge"]),
                     "Updates available": (1, ["Mail Bridge"]),
                     "Upgrades available": (1, ["Drive Link"])}


def test_the_status_filter_offers_every_status_and_flag_of_the_summary(people, console, browser):
    html = parse(browser(people["user"]).get(f"{BASE}/my-apps?status=disconnected_or_expired"))
    assert [(value, label) for value, label, _ in options(html, "Status")] == [
        ("", "All"), ("any", "Any status"), ("connected", "Connected"),
        ("disconnected_or_expired", "Disconnected or expired"), ("disconnected", "Disconnected"),
        ("expired", "Expired"), ("error", "Error"), ("update_available", "Update available"),
        ("upgrade_available", "Upgrade available")]
    assert chosen(html, "Status") == ["Disconnected or expired"]
    assert text_of(one(html, "status")) == "2 apps disconnected or expired"


def test_my_apps_rows_offer_the_link_that_fixes_them_to_admins(people, console, browser, session):
    make_installation(session, people["acme"],
                      make_app(session, "no-page", install_url=None), status="disconnected",
                      update_available=True)
    session.commit()
    html = parse(browser(people["admin"]).get(f"{BASE}/my-apps"))
    assert {r["app"]: r["fixes"] for r in my_apps(html)} == {
        "Chat Ops": ["Reconnect"], "Crm Sync": [], "Drive Link": ["Reconnect"],
        "Mail Bridge": ["Re-authenticate"], "No Page": [], "Social Hub": []}
    row = next(row for row in by_role(html, "row") if by_role(row, "link", "Mail Bridge"))
    assert link(row, "Re-authenticate")["href"] == (
        "http://127.0.0.1:8900/mail-bridge/install?workspace=acme")
    # Someone who may neither reconnect nor re-authenticate these apps is offered neither.
    user_rows = my_apps(browser(people["user"]).get(f"{BASE}/my-apps"))
    assert [r["fixes"] for r in user_rows] == [[]] * len(user_rows)


@pytest.mark.parametrize("status, apps", [("connected", ["Crm Sync"]), ("error", ["Mail Bridge"]),
                                          ("expired", ["Drive Link"]),
                                          ("disconnected", ["Chat Ops"])])
def test_my_apps_status_filter_as_htmx_fragment(people, console, browser, status, apps):
    response = browser(people["user"]).get(f"{BASE}/my-apps?status={status}",
                                           htmx_target="my-apps-table")
    html = parse(response)
    assert response.status_code == 200
    assert fragment_root(html)["id"] == "my-apps-table"
    assert by_role(html, "heading", level=1) == [] and by_role(html, "combobox") == []
    assert [r["app"] for r in my_apps(html)] == apps
    assert "HX-Request" in response.headers["Vary"]


def test_my_apps_filter_is_restored_on_full_load(people, console, browser):
    html = parse(browser(people["admin"]).get(f"{BASE}/my-apps?status=error"))
    assert heading(html, "Connected apps", level=1)
    assert chosen(html, "Status") == ["Error"]
    assert options(html, "Status")[0] == ("", "All", False)
    assert [r["app"] for r in my_apps(html)] == ["Mail Bridge"]
    filters = one(html, "combobox", "Status").find_parent("form")
    assert filters["hx-push-url"] == "true" and filters["hx-target"] == "#my-apps-table"


def test_my_apps_empty_filter_says_so(people, browser, session):
    make_installation(session, people["acme"], make_app(session, "fine-app"))
    session.commit()
    html = parse(browser(people["admin"]).get(f"{BASE}/my-apps?status=error",
                                              htmx_target="my-apps-table"))
    assert text_of(one(html, "status")) == "0 apps with the status Error"
    assert "No installed app matches this filter. Show all apps" in text_of(html)


@pytest.mark.parametrize("htmx_target", [None, "my-apps-table"])
def test_my_apps_unknown_status_is_a_400_with_a_message(people, console, browser, htmx_target):
    response = browser(people["admin"]).get(f"{BASE}/my-apps?status=installed",
                                            htmx_target=htmx_target)
    assert response.status_code == 400
    assert "Unknown status" in text_of(parse(response))


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
        shown = b.get(f"{BASE}/my-apps")
    assert len(my_apps(shown)) == 3
    install(12, 3)
    with statements() as many:
        shown = b.get(f"{BASE}/my-apps")
    assert len(my_apps(shown)) == 15
    assert len(few) == len(many)
    assert not [sql for sql in many if "events" in sql.lower()]


def test_outsider_sees_none_of_acmes_installations(people, console, browser):
    b = browser(people["outsider"])
    assert [r["app"] for r in my_apps(b.get(f"{BASE}/my-apps"))] == ["Globex Only"]
    numbers = summary_numbers(b.get(f"{BASE}/"))
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
