"""The app log over HTTP: page vs fragment, pushed URLs, load more, CSV export, bad input."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import make_app, make_installation, make_user
from tests.page_helpers import statements
from webapp.extensions import db
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


def times_in(body: str) -> list[str]:
    """The Date column of the log rows in a page or fragment (other sections show times too)."""
    if 'id="app-log-table"' in body:
        body = body.split('id="app-log-table"', 1)[1]
    return re.findall(r'<td><time datetime="([^"]+)"', body)


def more_url(body: str) -> str | None:
    found = re.search(r'id="app-log-more".*?hx-get="([^"]+)"', body, re.S)
    return html.unescape(found.group(1)) if found else None


def export_url(body: str) -> str:
    return html.unescape(re.search(r'<a href="([^"]+)">Export CSV</a>', body).group(1))


def csv_table(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))



def test_the_overview_shows_the_log_filters_and_table(world, browser):
    response = browser(world["people"]["admin"]).get(OVERVIEW)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for label, field in (("Activity type", "log-activity"), ("Users", "log-user"), ("Apps", "log-app"),
                         ("From", "log-from"), ("To", "log-to")):
        assert f'<label for="{field}">{label}</label>' in body
    assert 'type="date" id="log-from"' in body and "UTC" in body
    assert '<option value="">All apps</option>' in body
    assert ">Crm</option>" in body and ">Chat</option>" in body  # uninstalled apps stay filterable
    assert ">Secret</option>" not in body and "Olga Outsider" not in body
    assert 'hx-get="/settings/connected-apps/"' in body and 'hx-push-url="true"' in body
    assert [h for h in re.findall(r'<th scope="col">(\w+)</th>', body)] == ["Activity", "App", "User", "Date"]
    assert times_in(body) == ["2026-11-03T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-01T09:00:00Z"]
    assert "System" in body  # the uninstall had no actor
    assert "HX-Target" in response.headers["Vary"]


def test_changing_a_filter_returns_only_the_table(world, browser):
    response = browser(world["people"]["admin"]).get(OVERVIEW + "?activity=installed&user=&app=&from=&to=",
                                                      htmx_target=TABLE)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="app-log-table"')
    assert "<html" not in body and "Activity type" not in body
    assert times_in(body) == ["2026-11-01T09:00:00Z"]
    assert "HX-Request" in response.headers["Vary"]


def test_a_pushed_url_restores_the_same_view_on_a_full_load(world, browser):
    people, crm = world["people"], world["apps"]["crm"]
    url = (f"{OVERVIEW}?activity=sync_off&user={people['user'].id}&app={crm.id}"
           "&from=2026-11-02&to=2026-11-03")
    body = browser(people["admin"]).get(url).get_data(as_text=True)
    assert "<html" in body
    assert '<option value="sync_off" selected>' in body
    assert f'<option value="{people["user"].id}" selected>' in body
    assert f'<option value="{crm.id}" selected>' in body
    assert 'name="from" value="2026-11-02"' in body and 'name="to" value="2026-11-03"' in body
    assert times_in(body) == ["2026-11-03T09:00:00Z"]


def test_a_history_restore_gets_the_full_page(world, browser):
    response = browser(world["people"]["admin"]).get(
        OVERVIEW + "?activity=installed", htmx_target=TABLE, headers={"HX-History-Restore-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" in body and "App log" in body
    assert '<option value="installed" selected>' in body


def test_an_empty_result_says_so(world, browser):
    body = browser(world["people"]["admin"]).get(OVERVIEW + "?activity=reconnected",
                                                 htmx_target=TABLE).get_data(as_text=True)
    assert "No activity matches these filters." in body
    assert "Load more" not in body


def test_load_more_appends_the_next_fifty_until_the_last_page(world, browser, session):
    many_events(session, world["installs"]["crm"], 117)
    b = browser(world["people"]["admin"])
    first = b.get(OVERVIEW + "?activity=sync_on").get_data(as_text=True)
    seen = times_in(first)
    assert len(seen) == 50
    url = more_url(first)
    assert "activity=sync_on" in url and "cursor=" in url
    pages = []
    while url:
        response = b.get(url, htmx_target=MORE)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "<table" not in body and "<html" not in body
        pages.append(len(times_in(body)))
        seen += times_in(body)
        url = more_url(body)
    assert pages == [50, 17]
    assert len(seen) == len(set(seen)) == 117
    assert seen == sorted(seen, reverse=True)


def test_the_csv_export_is_exactly_the_filtered_rows_of_all_pages(world, browser, session):
    people = world["people"]
    many_events(session, world["installs"]["crm"], 80, actor_id=people["user"].id)
    many_events(session, world["installs"]["crm"], 10, activity="sync_off", actor_id=people["user"].id)
    b = browser(people["admin"])
    table = b.get(OVERVIEW + f"?activity=sync_on&user={people['user'].id}",
                  htmx_target=TABLE).get_data(as_text=True)
    shown = times_in(table)
    shown += times_in(b.get(more_url(table), htmx_target=MORE).get_data(as_text=True))
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
    record_event(session, installation, "installed", evil_user.id, details={"note": "+1+cmd"},
                 occurred_at=START + timedelta(days=5))
    session.commit()
    rows = csv_table(browser(people["admin"]).get(EXPORT + f"?app={evil_app.id}"))
    assert rows[1] == ["Installed", "'=HYPERLINK(\"http://evil.example\")", "'@Mallory",
                       "2026-11-06T09:00:00Z", '{"note":"+1+cmd"}']


def test_the_app_page_log_is_fixed_to_that_app(world, browser):
    b = browser(world["people"]["admin"])
    body = b.get("/settings/connected-apps/apps/crm").get_data(as_text=True)
    assert 'id="log-app"' not in body and 'id="log-activity"' in body
    assert times_in(body) == ["2026-11-03T09:00:00Z", "2026-11-01T09:00:00Z"]
    assert f"app={world['apps']['crm'].id}" in export_url(body)
    fragment = b.get(f"/settings/connected-apps/apps/crm?activity=installed&app={world['apps']['chat'].id}",
                     htmx_target=TABLE).get_data(as_text=True)
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
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert body.lstrip().startswith('<div id="app-log-table"')
    assert 'role="alert"' in body and message in html.unescape(body)


@pytest.mark.parametrize("query, message", BAD_INPUT)
def test_bad_input_on_a_full_load_shows_the_message_in_the_log(world, browser, query, message):
    response = browser(world["people"]["admin"]).get(f"{OVERVIEW}?{query}")
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "App log" in body and 'role="alert"' in body and message in body
    assert "<time" not in body.split('id="app-log-table"')[1]


@pytest.mark.parametrize("query, message", BAD_INPUT[:-1])
def test_bad_input_to_the_csv_export_answers_400(world, browser, query, message):
    response = browser(world["people"]["admin"]).get(f"{EXPORT}?{query}")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


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
    url = more_url(b.get(OVERVIEW).get_data(as_text=True))
    tampered = re.sub(r"cursor=[^&]+", lambda m: m.group(0)[:-3] + "abc", url)
    response = b.get(tampered, htmx_target=MORE)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert body.lstrip().startswith('<tr id="app-log-more"') and 'role="alert"' in body


def test_the_outsider_sees_only_their_own_workspace(world, browser):
    people = world["people"]
    b = browser(people["outsider"])
    body = b.get(OVERVIEW).get_data(as_text=True)
    assert times_in(body) == ["2026-11-02T09:00:00Z"]
    log_section = body.split('id="app-log-heading"', 1)[1].split("</section>", 1)[0]
    assert "Crm" not in log_section and ">Secret</option>" in log_section
    assert "Bob Admin" not in body and "Carol User" not in body
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
    assert len(times_in(small.get_data(as_text=True))) == 5
    assert len(times_in(large.get_data(as_text=True))) == 50
    assert len(many) == len(few)
    assert len([sql for sql in many if "FROM events" in sql]) == 1
    assert not [sql for sql in many if "OFFSET" in sql and "FROM events" in sql]
