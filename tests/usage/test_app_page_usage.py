"""The app page's "API usage": calls per day as a chart and a table that agree, last use in words
in the workspace's time zone, and each granted scope's last use with the unused ones marked."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_app, make_installation
from tests.html import by_role, column_headers, one, parse, region, table_rows, terms, text_of
from webapp.database import utcnow
from webapp.models import Installation
from webapp.services import lifecycle
from webapp.services.usage import DailyCalls, count_api_call, fold_usage
from webapp.services.usage.chart import bar_chart

BASE = "/settings/connected-apps"


def called(session, redis, installation, at: datetime, times: int = 1, scopes=()) -> None:
    """`times` API calls of the installation at `at`, counted and folded as the console does."""
    for _ in range(times):
        assert count_api_call(redis, installation.id, list(scopes), at)
    fold_usage(session, redis, at)  # a fold then: counts wait in Redis for a few days only


def day_words(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def hour_words(start: datetime, zone: ZoneInfo, today: date) -> str:
    """How the page says an hour of the workspace's clock ("Today 09:00–10:00")."""
    local, end = start.astimezone(zone), (start + timedelta(hours=1)).astimezone(zone)
    said = "Today" if local.date() == today else (
        "Yesterday" if local.date() == today - timedelta(days=1) else f"{day_words(local.date())},")
    return f"{said} {local:%H:%M}–{end:%H:%M}"


def usage_section(browser, user, slug="crm-sync"):
    response = browser(user).get(f"{BASE}/apps/{slug}")
    assert response.status_code == 200
    return region(parse(response), "API usage")


def chart(section):
    return one(section, "img", re.compile(r"^API calls per day, last 30 days"))


def bars(section) -> dict[str, tuple[int, float]]:
    """Each drawn bar's day (ISO) -> (calls its title says, its height)."""
    found = {}
    for rect in chart(section).find_all("rect"):
        calls = int(rect.find("title").get_text().split(": ")[1].split()[0].replace(",", ""))
        found[rect["data-day"]] = (calls, float(rect["height"]))
    return found


def table_days(section) -> dict[str, int]:
    """The table's rows: day (ISO, from its time element) -> calls."""
    table = one(section, "table", "API calls per day")
    return {row.find("time")["datetime"]: int(text_of(row.find("td")).replace(",", ""))
            for row in table.find("tbody").find_all("tr")}


@pytest.fixture
def crm(session, people):
    installation = make_installation(session, people["acme"], make_app(session, "crm-sync"),
                                     installed_at=utcnow() - timedelta(days=200))
    session.commit()
    return installation


def test_a_real_api_call_shows_as_today_in_the_chart_the_table_and_last_used(
        app, session, people, browser, redis, flow, contacts_api):
    token = flow.tokens()["access_token"]
    for _ in range(3):
        assert contacts_api.introspect(token, scope="contacts.read").get_json()["active"] is True
    app.extensions["usage_counter"].flush()  # what the counter's thread does within 0.1 s
    fold_usage(session, redis, utcnow())
    now = utcnow()
    today = now.date()  # the workspace's clock is UTC
    section = usage_section(browser, people["user"], "acme-sync")
    facts = terms(section)
    assert facts["Last used"] == hour_words(now.replace(minute=0, second=0, microsecond=0),
                                            ZoneInfo("UTC"), today)
    assert facts["Calls in the last 30 days"] == "3"
    assert accessible(chart(section)) == (f"API calls per day, last 30 days: 3 in all, "
                                          f"most on {day_words(today)} (3)")
    assert {day: calls for day, (calls, _) in bars(section).items()} == {today.isoformat(): 3}
    days = table_days(section)
    assert len(days) == 30 and days[today.isoformat()] == 3 and sum(days.values()) == 3
    assert column_headers(section, "Last use per scope") == ["Scope", "Last used"]
    scopes = dict((name, used) for name, used in table_rows(section, "Last use per scope"))
    assert scopes["contacts.read"].startswith("Today ")
    assert scopes["contacts.write"] == "Never"  # granted just now: not unused yet


def accessible(element) -> str:
    return element["aria-label"]


def test_chart_bars_and_table_show_the_same_numbers_for_the_same_30_days(
        session, people, browser, redis, crm):
    now = utcnow()
    spread = {0: 40, 1: 10, 6: 25, 29: 1, 30: 7}  # days ago -> calls; 30 days ago is too old
    for days_ago, calls in spread.items():
        called(session, redis, crm, now - timedelta(days=days_ago), times=calls)
    section = usage_section(browser, people["admin"])
    days = table_days(section)
    today = utcnow().date()
    assert list(days) == [(today - timedelta(days=n)).isoformat() for n in range(30)]  # newest first
    shown = {day: calls for day, calls in days.items() if calls}
    assert shown == {(today - timedelta(days=n)).isoformat(): calls
                     for n, calls in spread.items() if n < 30}
    drawn = bars(section)
    assert {day: calls for day, (calls, _) in drawn.items()} == shown  # no bar for a day without
    tallest = drawn[today.isoformat()][1]
    for calls, height in drawn.values():
        assert height == pytest.approx(tallest * calls / 40, abs=0.02)
    assert "76 in all, most on" in accessible(chart(section))
    assert terms(section)["Calls in the last 30 days"] == "76"


def test_days_and_times_are_the_workspaces(session, people, browser, redis, crm):
    people["acme"].timezone = "Asia/Tokyo"
    session.commit()
    zone = ZoneInfo("Asia/Tokyo")
    moment = utcnow().replace(minute=30) - timedelta(days=3)
    called(session, redis, crm, moment, times=2)
    section = usage_section(browser, people["admin"])
    days = table_days(section)
    assert {day for day, calls in days.items() if calls} == {
        moment.astimezone(zone).date().isoformat()}
    today = utcnow().astimezone(zone).date()
    assert list(days)[0] == today.isoformat()
    hour = moment.replace(minute=0, second=0, microsecond=0)
    assert terms(section)["Last used"] == hour_words(hour, zone, today)
    last_used = section.find("dd").find("time")
    assert last_used["datetime"] == hour.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "(Asia/Tokyo)" in text_of(section)


def test_an_app_never_used_says_never_and_draws_no_bar(people, browser, crm):
    section = usage_section(browser, people["user"])
    assert terms(section)["Last used"] == "Never"
    assert accessible(chart(section)) == "API calls per day, last 30 days: 0 in all"
    assert bars(section) == {}
    assert set(table_days(section).values()) == {0}
    assert "No API calls from" in text_of(section)


def test_scopes_granted_and_unused_for_90_days_are_marked_unused(session, people, browser, redis):
    app = make_app(session, "crm-sync", optional_scopes=["contacts.write", "files.read"])
    grant = lifecycle.consent(session, people["acme"], app, people["admin"],
                              ["contacts.read", "contacts.write", "files.read"])
    installation = session.get(Installation, grant.installation_id)
    now = utcnow()
    grant.created_at = installation.installed_at = now - timedelta(days=120)
    session.commit()
    called(session, redis, installation, now - timedelta(days=10), scopes=["contacts.read"])
    called(session, redis, installation, now - timedelta(days=100), scopes=["contacts.write"])
    section = usage_section(browser, people["admin"])
    rows = {name: used for name, used in table_rows(section, "Last use per scope")}
    assert set(rows) == {"contacts.read", "contacts.write", "files.read"}
    ten_days_ago = (now - timedelta(days=10)).date()
    assert rows["contacts.read"].startswith(day_words(ten_days_ago) + ", ")
    assert "Unused" not in rows["contacts.read"]
    assert rows["contacts.write"].startswith(day_words((now - timedelta(days=100)).date()))
    assert rows["contacts.write"].endswith("Unused")
    assert rows["files.read"] == "Never Unused"
    assert "Unused: granted at least 90 days ago" in text_of(section)


def test_an_uninstalled_app_keeps_its_history_and_lists_no_scope(session, people, browser, redis,
                                                                 crm):
    called(session, redis, crm, utcnow() - timedelta(days=2), times=5, scopes=["contacts.read"])
    crm.state = "uninstalled"
    session.commit()
    section = usage_section(browser, people["admin"])
    assert terms(section)["Calls in the last 30 days"] == "5"
    assert by_role(section, "table", "Last use per scope") == []
    assert "Nothing is granted while the app is uninstalled." in text_of(section)


def test_another_workspaces_usage_never_shows(session, people, browser, redis, crm):
    theirs = make_installation(session, people["globex"], crm.app)
    session.commit()
    called(session, redis, theirs, utcnow(), times=9)
    section = usage_section(browser, people["admin"])
    assert terms(section)["Last used"] == "Never"
    assert sum(table_days(section).values()) == 0



def test_a_day_with_one_call_among_thousands_is_still_drawn():
    today = date(2026, 12, 1)
    daily = [DailyCalls(today - timedelta(days=29 - n), 0) for n in range(30)]
    daily[0], daily[-1] = DailyCalls(daily[0].day, 1), DailyCalls(today, 12_000)
    drawn = bar_chart(daily)
    assert drawn.top_calls == 20_000 and [tick.value for tick in drawn.ticks] == [0, 10_000, 20_000]
    assert drawn.bars[0].height >= 1 and drawn.bars[-1].height == pytest.approx(136 * 0.6)
    assert [bar.day.day.day for bar in drawn.bars if bar.labelled] == [3, 10, 17, 24, 1]
