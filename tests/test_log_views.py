"""The app log over HTTP: page vs fragment, pushed URLs, load more, CSV export, bad input."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import make_app, make_installation, make_user
from tests.html import (by_role, chosen, column_headers, field, fragment_root, is_full_page,
                        link, one, options, parse, region, table_rows, text_of)
from tests.page_helpers import statements
from webapp.services.events import record_event

OVERVIEW = "/settings/connected-apps/"
EXPORT = "/settings/connected-apps/log.csv"
TABLE = "app-log-table"
MORE = "app-log-more"
START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(session, people):
    acme, globex = people["acme"], people["globex"]
    crm, chat, secret = make_app(session, "crm"), make_app(session, "chat"), make_app(session, "secret")
    installs = {
        "crm": make_installation(session, acme, crm, people["admin"]),
        "chat": make_installation(session, acme, chat, people["admin"], state="uninstalled"),
        "secret": make_installation(session, globex, secret, people["outsider"]),
    }
    record_event(session, installs["crm"], "installed", people["admin"].id, occurred_at=START)
    record_event(session, installs["chat"], "uninstalled", None, occurred_at=START + timedelta(days=1))
    record_event(session, installs["crm"], "sync_off", people["user"].id,
                 occurred_at=START + timedelta(days=2))
    record_event(session, installs["secret"], "installed", people["outsider"].id,
                 occurred_at=START + timedelta(days=1))
    session.commit()
    return {"people": people, "apps": {"crm": crm, "chat": chat, "secret": secret},
            "installs": installs}


def many_events(session, installation, count, activity="sync_on", actor_id=None):
    for n in range(count):
        record_event(session, installation, activity, actor_id,
                     occurred_at=START + timedelta(days=3, minutes=n))
    session.commit()


def log_of(page):
    """The app log section of a page, or the whole of a fragment."""
    doc = parse(page)
    return region(doc, "App log") if by_role(doc, "region", "App log") else doc


def times_in(page) -> list[str]:
    """The times (ISO 8601) of the log rows shown in a page or fragment."""
    return [t["datetime"] for t in log_of(page).select("tr td time")]


def more_url(page) -> str | None:
    found = by_role(page, "button", "Load more")
    return found[0]["hx-get"] if found else None


def export_url(page) -> str:
    return link(page, "Export CSV")["href"]


def alert_text(page) -> str:
    return text_of(one(log_of(page), "alert"))


def csv_table(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))



def test_the_overview_shows_the_log_filters_and_table(world, browser):
    response = browser(world["people"]["admin"]).get(OVERVIEW)
    page = parse(response)
    assert response.status_code == 200
    log = region(page, "App log")
    assert [field(log, label).name for label in ("Activity type", "Users", "Apps", "From", "To")] == [
        "select", "select", "select", "input", "input"]
    for label in ("From", "To"):
        date = field(log, label)
        assert date["type"] == "date"
        assert text_of(page.find(id=date["aria-describedby"])) == "Whole days, UTC"
    apps = [text for _, text, _ in options(log, "Apps")]
    assert apps[0] == "All apps" and options(log, "Apps")[0][0] == ""
    assert "Crm" in apps and "Chat" in apps  # uninstalled apps stay filterable
    assert "Secret" not in apps and "Olga Outsider" not in text_of(page)
    filters = region(log, "Filter the app log")
    assert filters["hx-get"] == "/settings/connected-apps/" and filters["hx-push-url"] == "true"
    assert column_headers(log, "App log, newest first") == ["Activity", "App", "User", "Date",
                                                            "Details"]
    assert times_in(page) == ["2026-11-03T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-01T09:00:00Z"]
    assert [row[:3] for row in table_rows(log, "App log, newest first")] == [
        ["Sync turned off", "Crm", "Carol User"],
        ["Uninstalled", "Chat", "System"],  # the uninstall had no actor
        ["Installed", "Crm", "Bob Admin"]]
    assert "HX-Target" in response.headers["Vary"]


def test_changing_a_filter_returns_only_the_table(world, browser):
    response = browser(world["people"]["admin"]).get(OVERVIEW + "?activity=installed&user=&app=&from=&to=",
                                                      htmx_target=TABLE)
    assert response.status_code == 200
    assert fragment_root(response)["id"] == TABLE
    assert not is_full_page(response) and "Activity type" not in text_of(parse(response))
    assert times_in(response) == ["2026-11-01T09:00:00Z"]
    assert "HX-Request" in response.headers["Vary"]


def test_a_pushed_url_restores_the_same_view_on_a_full_load(world, browser):
    people, crm = world["people"], world["apps"]["crm"]
    url = (f"{OVERVIEW}?activity=sync_off&user={people['user'].id}&app={crm.id}"
           "&from=2026-11-02&to=2026-11-03")
    page = parse(browser(people["admin"]).get(url))
    assert is_full_page(page)
    assert chosen(page, "Activity type") == ["Sync turned off"]
    assert chosen(page, "Users") == ["Carol User"]
    assert chosen(page, "Apps") == ["Crm"]
    assert field(page, "From")["value"] == "2026-11-02" and field(page, "To")["value"] == "2026-11-03"
    assert times_in(page) == ["2026-11-03T09:00:00Z"]


def test_a_history_restore_gets_the_full_page(world, browser):
    response = browser(world["people"]["admin"]).get(
        OVERVIEW + "?activity=installed", htmx_target=TABLE, headers={"HX-History-Restore-Request": "true"})
    assert is_full_page(response) and region(response, "App log")
    assert chosen(response, "Activity type") == ["Installed"]


def test_an_empty_result_says_so(world, browser):
    fragment = browser(world["people"]["admin"]).get(OVERVIEW + "?activity=reconnected",
                                                     htmx_target=TABLE)
    assert table_rows(fragment) == [["No activity matches these filters."]]
    assert by_role(fragment, "button", "Load more") == []


def test_load_more_appends_the_next_fifty_until_the_last_page(world, browser, session):
    many_events(session, world["installs"]["crm"], 117)
    b = browser(world["people"]["admin"])
    first = parse(b.get(OVERVIEW + "?activity=sync_on"))
    seen = times_in(first)
    assert len(seen) == 50
    url = more_url(first)
    assert "activity=sync_on" in url and "cursor=" in url
    pages = []
    while url:
        response = b.get(url, htmx_target=MORE)
        assert response.status_code == 200
        rows = parse(response)
        assert rows.find("table") is None and not is_full_page(rows)
        pages.append(len(times_in(rows)))
        seen += times_in(rows)
        url = more_url(rows)
    assert pages == [50, 17]
    assert len(seen) == len(set(seen)) == 117
    assert seen == sorted(seen, reverse=True)


def test_the_csv_export_is_exactly_the_filtered_rows_of_all_pages(world, browser, session):
    people = world["people"]
    many_events(session, world["installs"]["crm"], 80, actor_id=people["user"].id)
    many_events(session, world["installs"]["crm"], 10, activity="sync_off", actor_id=people["user"].id)
    b = browser(people["admin"])
    table = parse(b.get(OVERVIEW + f"?activity=sync_on&user={people['user'].id}", htmx_target=TABLE))
    shown = times_in(table)
    shown += times_in(b.get(more_url(table), htmx_target=MORE))
    response = b.get(export_url(table))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="app-log-acme-\d{8}-\d{6}\.csv"',
                        response.headers["Content-Disposition"])
    rows = csv_table(response)
    assert rows[0][:4] == ["Activity", "App", "User", "Date"]
    assert len(rows) == 81
    assert {tuple(r[:3]) for r in rows[1:]} == {("Sync turned on", "Crm", "Carol User")}
    assert [r[3] for r in rows[1:]] == shown


def test_the_csv_neutralises_cells_a_spreadsheet_would_run(world, browser, session):
    people = world["people"]
    evil_app = make_app(session, "evil", name="=HYPERLINK(\"http://evil.example\")")
    evil_user = make_user(session, people["acme"], "mallory@acme.test", name="@Mallory")
    installation = make_installation(session, people["acme"], evil_app, evil_user)
    record_event(session, installation, "error", evil_user.id, details={"reason": "+1+cmd"},
                 occurred_at=START + timedelta(days=5))
    session.commit()
    rows = csv_table(browser(people["admin"]).get(EXPORT + f"?app={evil_app.id}"))
    assert rows[1] == ["Error", "'=HYPERLINK(\"http://evil.example\")", "'@Mallory",
                       "2026-11-06T09:00:00Z", "'+1+cmd"]


def test_the_app_page_log_is_fixed_to_that_app(world, browser):
    b = browser(world["people"]["admin"])
    page = parse(b.get("/settings/connected-apps/apps/crm"))
    log = region(page, "App log")
    assert by_role(log, "combobox", "Apps") == [] and field(log, "Activity type")
    assert times_in(page) == ["2026-11-03T09:00:00Z", "2026-11-01T09:00:00Z"]
    assert f"app={world['apps']['crm'].id}" in export_url(page)
    fragment = b.get(f"/settings/connected-apps/apps/crm?activity=installed&app={world['apps']['chat'].id}",
                     htmx_target=TABLE)
    assert times_in(fragment) == ["2026-11-01T09:00:00Z"]


BAD_INPUT = [
    ("activity=dance", "Unknown activity type"),
    ("user=abc", "User must be chosen from the list"),
    ("app=%27%20OR%201%3D1", "App must be chosen from the list"),
    ("app=999999", "not installed in this workspace"),
    ("user=999999", "not part of this workspace"),
    ("from=2026-02-30", "From must be a date written YYYY-MM-DD"),
    ("to=11/02/2026", "To must be a date written YYYY-MM-DD"),
    ("from=2026-11-05&to=2026-11-01", "From must be on or before To"),
    ("cursor=not-a-cursor", "not valid"),
]


@pytest.mark.parametrize("query, message", BAD_INPUT)
def test_bad_input_answers_400_with_a_message_in_the_fragment(world, browser, query, message):
    response = browser(world["people"]["admin"]).get(f"{OVERVIEW}?{query}", htmx_target=TABLE)
    assert response.status_code == 400
    assert fragment_root(response)["id"] == TABLE
    assert message in alert_text(response)


@pytest.mark.parametrize("query, message", BAD_INPUT)
def test_bad_input_on_a_full_load_shows_the_message_in_the_log(world, browser, query, message):
    response = browser(world["people"]["admin"]).get(f"{OVERVIEW}?{query}")
    assert response.status_code == 400
    assert message in alert_text(response)
    assert times_in(response) == []


@pytest.mark.parametrize("query, message", BAD_INPUT[:-1])
def test_bad_input_to_the_csv_export_answers_400(world, browser, query, message):
    response = browser(world["people"]["admin"]).get(f"{EXPORT}?{query}")
    assert response.status_code == 400
    assert message in text_of(parse(response))


def test_other_workspaces_ids_answer_400_not_their_data(world, browser):
    people = world["people"]
    b = browser(people["admin"])
    for query in (f"user={people['outsider'].id}", f"app={world['apps']['secret'].id}"):
        for url in (f"{OVERVIEW}?{query}", f"{EXPORT}?{query}"):
            response = b.get(url, htmx_target=TABLE)
            assert response.status_code == 400
            assert "Olga" not in response.get_data(as_text=True)


def test_a_forged_cursor_on_load_more_answers_400_in_place(world, browser, session):
    many_events(session, world["installs"]["crm"], 60)
    b = browser(world["people"]["admin"])
    url = more_url(b.get(OVERVIEW))
    tampered = re.sub(r"cursor=[^&]+", lambda m: m.group(0)[:-3] + "abc", url)
    response = b.get(tampered, htmx_target=MORE)
    assert response.status_code == 400
    assert fragment_root(response)["id"] == MORE
    assert alert_text(response) == "This page link is not valid any more. Reload the log and try again."


def test_the_outsider_sees_only_their_own_workspace(world, browser):
    people = world["people"]
    b = browser(people["outsider"])
    page = parse(b.get(OVERVIEW))
    assert times_in(page) == ["2026-11-02T09:00:00Z"]
    log = region(page, "App log")
    assert "Crm" not in text_of(log) and "Secret" in [text for _, text, _ in options(log, "Apps")]
    assert "Bob Admin" not in text_of(page) and "Carol User" not in text_of(page)
    assert b.get(f"{OVERVIEW}?app={world['apps']['crm'].id}", htmx_target=TABLE).status_code == 400
    assert b.get(f"{OVERVIEW}?user={people['admin'].id}", htmx_target=TABLE).status_code == 400
    rows = csv_table(b.get(EXPORT))
    assert [r[:3] for r in rows[1:]] == [["Installed", "Secret", "Olga Outsider"]]
    assert b.get("/settings/connected-apps/apps/crm").status_code == 404


def test_the_export_needs_login(world, app):
    response = app.test_client().get(EXPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_log_fragment_issues_the_same_queries_for_5_and_50_rows(world, browser, session):
    people = world["people"]
    b = browser(people["admin"])
    users = [make_user(session, people["acme"], f"u{n}@acme.test") for n in range(6)]
    for n in range(5):
        record_event(session, world["installs"]["crm"], "reconnected", users[n % 6].id,
                     occurred_at=START + timedelta(hours=n))
    session.commit()
    with statements() as few:
        small = b.get(OVERVIEW + "?activity=reconnected", htmx_target=TABLE)
    for n in range(45):
        record_event(session, world["installs"]["chat"], "reconnected", users[n % 6].id,
                     occurred_at=START + timedelta(days=1, hours=n))
    session.commit()
    with statements() as many:
        large = b.get(OVERVIEW + "?activity=reconnected", htmx_target=TABLE)
    assert len(times_in(small)) == 5
    assert len(times_in(large)) == 50
    assert len(many) == len(few)
    assert len([sql for sql in many if "FROM events" in sql]) == 1
    assert not [sql for sql in many if "OFFSET" in sql and "FROM events" in sql]
