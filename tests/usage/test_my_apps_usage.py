"""My apps: each app's "Last used" (one query for all rows) and the "Usage" filter, alone and with
the "Status" filter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import make_app, make_installation, make_user
from tests.html import chosen, column_headers, fragment_root, one, options, parse, text_of
from tests.page_helpers import statements
from webapp.database import utcnow
from webapp.services.installations import installed_installations
from webapp.services.usage import count_api_call, fold_usage

BASE = "/settings/connected-apps"
NOW = datetime(2026, 11, 30, 10, 15, tzinfo=timezone.utc)


def called(session, redis, installation, at: datetime, times: int = 1) -> None:
    for _ in range(times):
        assert count_api_call(redis, installation.id, [], at)
    fold_usage(session, redis, at)  # a fold then: counts wait in Redis for a few days only


def shown(response) -> dict[str, str]:
    """The My apps table as shown: app -> its "Last used"."""
    html = parse(response)
    table = html.find("table")
    if table is None:
        return {}
    rows = {}
    for row in table.find("tbody").find_all("tr"):
        cells = row.find_all("td")
        rows[text_of(cells[0].find("a"))] = text_of(cells[-1])
    return rows


@pytest.fixture
def apps(session, people):
    """Installed 200 days ago: used today, used 45 days ago, used 75 days ago, never used; and
    one installed last week, never used; Error and Connected among them."""
    now = utcnow()
    long_ago = now - timedelta(days=200)
    made = {}
    for slug, status, installed_at in [("busy-app", "connected", long_ago),
                                       ("quiet-app", "error", long_ago),
                                       ("stale-app", "connected", long_ago),
                                       ("idle-app", "error", long_ago),
                                       ("new-app", "connected", now - timedelta(days=7))]:
        made[slug] = make_installation(session, people["acme"], make_app(session, slug),
                                       installed_by=people["admin"], status=status,
                                       installed_at=installed_at)
    session.commit()
    return made


@pytest.fixture
def used(session, redis, apps):
    now = utcnow()
    called(session, redis, apps["busy-app"], now, times=3)
    called(session, redis, apps["quiet-app"], now - timedelta(days=45))
    called(session, redis, apps["stale-app"], now - timedelta(days=75))
    return apps


def test_last_used_is_said_in_words_or_never(people, browser, used):
    response = browser(people["user"]).get(f"{BASE}/my-apps")
    html = parse(response)
    assert column_headers(html) == ["App", "Status", "Installed", "Installed by", "Last used"]
    rows = shown(response)
    now = utcnow()
    assert rows["Busy App"] == f"Today {now:%H}:00–{(now + timedelta(hours=1)):%H}:00"
    forty_five = (now - timedelta(days=45))
    assert rows["Quiet App"] == f"{forty_five.day} {forty_five:%b %Y}, {forty_five:%H}:00–" \
                                f"{(forty_five + timedelta(hours=1)):%H}:00"
    assert rows["Idle App"] == rows["New App"] == "Never"
    busy = html.find("a", string="Busy App").find_parent("tr").find_all("td")[-1].find("time")
    assert busy["datetime"] == now.strftime("%Y-%m-%dT%H:00:00Z")


def test_last_used_of_every_row_comes_from_one_query(session, people, browser, redis):
    b = browser(people["admin"])

    def install(count, start):
        for n in range(start, start + count):
            installer = make_user(session, people["acme"], f"installer{n}@acme.test")
            installation = make_installation(session, people["acme"],
                                             make_app(session, f"bulk-{n:02d}"),
                                             installed_by=installer)
            session.commit()
            called(session, redis, installation, utcnow() - timedelta(days=n), times=n + 1)

    install(3, 0)
    with statements() as few:
        rows = shown(b.get(f"{BASE}/my-apps"))
    assert len(rows) == 3 and "Never" not in rows.values()
    install(12, 3)
    with statements() as many:
        rows = shown(b.get(f"{BASE}/my-apps"))
    assert len(rows) == 15 and "Never" not in rows.values()
    assert len(few) == len(many)
    assert len([sql for sql in many if "usage_hourly" in sql]) == 1


def test_the_usage_filter_offers_any_and_30_60_90_days(people, browser, apps):
    html = parse(browser(people["user"]).get(f"{BASE}/my-apps"))
    assert [(text, selected) for _, text, selected in options(html, "Usage")] == [
        ("Any", True), ("Not used in 30 days", False), ("Not used in 60 days", False),
        ("Not used in 90 days", False)]
    # One form: changing either filter sends both, and the URL is pushed.
    form = one(html, "combobox", "Usage").find_parent("form")
    assert form is one(html, "combobox", "Status").find_parent("form")
    assert form["hx-push-url"] == "true" and form["hx-target"] == "#my-apps-table"


@pytest.mark.parametrize("days, expected", [
    ("30", ["Idle App", "Quiet App", "Stale App"]),
    ("60", ["Idle App", "Stale App"]),
    ("90", ["Idle App"]),
    ("", ["Busy App", "Idle App", "New App", "Quiet App", "Stale App"]),
])
def test_not_used_in_n_days_lists_apps_old_enough_without_calls_since(people, browser, used,
                                                                      days, expected):
    response = browser(people["admin"]).get(f"{BASE}/my-apps?usage={days}",
                                            htmx_target="my-apps-table")
    assert response.status_code == 200
    assert fragment_root(parse(response))["id"] == "my-apps-table"
    assert sorted(shown(response)) == expected


def test_usage_and_status_filters_combine(people, browser, used):
    b = browser(people["admin"])
    response = b.get(f"{BASE}/my-apps?status=error&usage=30", htmx_target="my-apps-table")
    assert sorted(shown(response)) == ["Idle App", "Quiet App"]
    assert text_of(one(parse(response), "status")) == (
        "2 apps with the status Error not used in 30 days (apps installed less than 30 days ago "
        "are left out)")
    page = parse(b.get(f"{BASE}/my-apps?status=connected&usage=60"))
    assert chosen(page, "Status") == ["Connected"] and chosen(page, "Usage") == ["Not used in 60 days"]
    assert sorted(shown(page)) == ["Stale App"]
    nothing = parse(b.get(f"{BASE}/my-apps?status=connected&usage=90"))
    assert "No installed app with the status Connected has gone unused for 90 days." in \
        text_of(nothing)


def test_the_usage_filter_never_lists_another_workspaces_apps(session, people, browser, apps):
    make_installation(session, people["globex"], make_app(session, "globex-idle"),
                      installed_at=utcnow() - timedelta(days=200))
    session.commit()
    assert "Globex Idle" not in shown(browser(people["admin"]).get(f"{BASE}/my-apps?usage=90"))


@pytest.mark.parametrize("htmx_target", [None, "my-apps-table"])
@pytest.mark.parametrize("value", ["45", "thirty", "-30", "30 days", "²", "030"])
def test_a_bad_usage_filter_is_a_400_with_a_message(people, browser, apps, htmx_target, value):
    response = browser(people["admin"]).get(f"{BASE}/my-apps", query_string={"usage": value},
                                            htmx_target=htmx_target)
    assert response.status_code == 400
    assert "The usage filter must be Any or one of 30, 60, 90 days." in text_of(parse(response))


def test_exactly_30_days_is_the_boundary(session, people, redis):
    """Installed exactly 30 days ago counts as old enough; a call in the hour 30 days ago counts
    as use within the 30 days, one in the hour before does not."""
    acme = people["acme"]
    cutoff = NOW - timedelta(days=30)
    exactly = make_installation(session, acme, make_app(session, "exactly-30"), installed_at=cutoff)
    younger = make_installation(session, acme, make_app(session, "younger"),
                                installed_at=cutoff + timedelta(seconds=1))
    edge = make_installation(session, acme, make_app(session, "used-at-the-edge"),
                             installed_at=NOW - timedelta(days=90))
    before = make_installation(session, acme, make_app(session, "used-just-before"),
                               installed_at=NOW - timedelta(days=90))
    session.commit()
    called(session, redis, edge, cutoff.replace(minute=0))
    called(session, redis, before, cutoff.replace(minute=0) - timedelta(seconds=1))
    listed = [row.app.slug for row in installed_installations(session, acme.id, not_used_for=30,
                                                              now=NOW)]
    assert listed == ["exactly-30", "used-just-before"]
    assert younger.app.slug not in listed and edge.app.slug not in listed
    assert exactly.app.slug in listed and before.app.slug in listed
