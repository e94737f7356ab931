"""What the pages read about usage: calls per day, last use, unused scopes, the My apps filter."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.conftest import make_app, make_installation
from tests.page_helpers import statements
from webapp.models import Installation
from webapp.services import lifecycle
from webapp.services.errors import InvalidInput
from webapp.services.usage import (count_api_call, daily_calls, fold_usage, installation_usage,
                                   last_used, last_used_by_installation, not_used_in,
                                   parse_usage_filter, scopes_last_used, unused_scopes)

NOW = datetime(2026, 11, 30, 10, 15, tzinfo=timezone.utc)


def called(session, redis, installation, at: datetime, times: int = 1, scopes=()):
    for _ in range(times):
        assert count_api_call(redis, installation.id, list(scopes), at)
    fold_usage(session, redis, at)


@pytest.fixture
def crm(session, people):
    installation = make_installation(session, people["acme"], make_app(session, "crm-sync"))
    session.commit()
    return installation


def test_thirty_days_of_calls_zero_filled_with_today_last(session, redis, crm):
    called(session, redis, crm, NOW, times=2)
    called(session, redis, crm, NOW - timedelta(hours=9), times=1)  # 01:15 today
    called(session, redis, crm, NOW - timedelta(days=3), times=4)
    called(session, redis, crm, NOW - timedelta(days=30), times=5)  # a day too old
    series = daily_calls(session, crm, NOW)
    assert len(series) == 30
    assert series[0].day == date(2026, 11, 1) and series[-1].day == date(2026, 11, 30)
    assert {day.day: day.calls for day in series if day.calls} == {
        date(2026, 11, 30): 3, date(2026, 11, 27): 4}
    assert installation_usage(session, crm, NOW).calls == 7


def test_days_are_the_workspaces_days(session, redis, people, crm):
    people["acme"].timezone = "America/New_York"  # UTC-5 in November
    session.commit()
    called(session, redis, crm, datetime(2026, 11, 30, 3, 30, tzinfo=timezone.utc))  # 22:30 on the 29th
    called(session, redis, crm, datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc))  # 01:00 on the 30th
    series = daily_calls(session, crm, NOW)
    assert {day.day: day.calls for day in series if day.calls} == {
        date(2026, 11, 29): 1, date(2026, 11, 30): 1}


def test_last_used_and_per_scope_last_use(session, redis, crm):
    assert last_used(session, crm) is None
    called(session, redis, crm, NOW - timedelta(days=2), scopes=["contacts.write"])
    called(session, redis, crm, NOW, scopes=["contacts.read"])
    assert last_used(session, crm) == datetime(2026, 11, 30, 10, tzinfo=timezone.utc)
    assert scopes_last_used(session, crm) == {
        "contacts.read": datetime(2026, 11, 30, 10, tzinfo=timezone.utc),
        "contacts.write": datetime(2026, 11, 28, 10, tzinfo=timezone.utc)}


def test_scopes_granted_and_unused_for_90_days_are_unused(session, redis, people):
    app = make_app(session, "crm-sync", optional_scopes=["contacts.write", "files.read"])
    grant = lifecycle.consent(session, people["acme"], app, people["admin"],
                              ["contacts.read", "contacts.write", "files.read"])
    installation = session.get(Installation, grant.installation_id)
    grant.created_at = installation.installed_at = NOW - timedelta(days=120)
    session.commit()
    called(session, redis, installation, NOW - timedelta(days=10), scopes=["contacts.read"])
    called(session, redis, installation, NOW - timedelta(days=100), scopes=["contacts.write"])
    assert unused_scopes(session, installation, NOW) == ["contacts.write", "files.read"]
    # Granted only a month ago: not unused yet.
    later = lifecycle.consent(session, people["acme"], app, people["admin"], ["files.read"])
    grant.revoked_at = NOW - timedelta(days=30)
    later.created_at = NOW - timedelta(days=30)
    session.commit()
    view = installation_usage(session, installation, NOW)
    assert [(scope.name, scope.unused) for scope in view.scopes] == [
        ("contacts.read", False), ("contacts.write", True), ("files.read", False)]
    assert view.last_used == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def test_an_uninstalled_app_has_no_scope_to_mark(session, redis, people, crm):
    crm.state = "uninstalled"
    session.commit()
    assert unused_scopes(session, crm, NOW) == []


def test_last_used_of_many_installations_in_one_query_within_the_workspace(
        session, redis, people, crm):
    mail = make_installation(session, people["acme"], make_app(session, "mail-bridge"))
    idle = make_installation(session, people["acme"], make_app(session, "drive-link"))
    foreign = make_installation(session, people["globex"], make_app(session, "chat-ops"))
    session.commit()
    called(session, redis, crm, NOW - timedelta(days=1))
    called(session, redis, mail, NOW)
    called(session, redis, foreign, NOW)
    ids = [crm.id, mail.id, idle.id, foreign.id]
    acme_id = people["acme"].id
    with statements() as seen:
        found = last_used_by_installation(session, acme_id, ids)
    assert len(seen) == 1
    assert found == {crm.id: datetime(2026, 11, 29, 10, tzinfo=timezone.utc),
                     mail.id: datetime(2026, 11, 30, 10, tzinfo=timezone.utc)}
    assert last_used_by_installation(session, people["acme"].id, []) == {}


def test_not_used_in_n_days_lists_installations_old_enough_without_recent_calls(
        session, redis, people, crm):
    long_ago = NOW - timedelta(days=200)
    crm.installed_at = long_ago
    recent = make_installation(session, people["acme"], make_app(session, "mail-bridge"),
                               installed_at=long_ago)
    stale = make_installation(session, people["acme"], make_app(session, "drive-link"),
                              installed_at=long_ago)
    new = make_installation(session, people["acme"], make_app(session, "chat-ops"),
                            installed_at=NOW - timedelta(days=5))
    session.commit()
    called(session, redis, recent, NOW - timedelta(days=3))
    called(session, redis, stale, NOW - timedelta(days=45))

    def matching(days: int) -> list[str]:
        rows = session.scalars(select(Installation).where(
            Installation.workspace_id == people["acme"].id, not_used_in(days, NOW)))
        return sorted(row.app.slug for row in rows)

    assert matching(30) == ["crm-sync", "drive-link"]
    assert matching(60) == ["crm-sync"]
    assert new.app.slug not in matching(90)


def test_the_usage_filter_accepts_any_and_30_60_90_days_only():
    assert [parse_usage_filter(v) for v in (None, "", "any", "30", "60", "90")] == [
        None, None, None, 30, 60, 90]
    for bad in ("45", "-30", "thirty", "30 "):
        with pytest.raises(InvalidInput) as refused:
            parse_usage_filter(bad)
        assert refused.value.field == "usage" and "30, 60, 90" in refused.value.message
