"""Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after login,
whatever happens in between; they need the database only, never Redis."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis
from sqlalchemy import select

from tests.html import table_rows
from tests.test_sessions import OVERVIEW, assert_sent_to_login, replay, session_cookie
from webapp.models import UserSession

DEAD_REDIS = "redis://127.0.0.1:1/0"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(app.session_interface, "clock", clock)
    return clock


def test_the_defaults_are_two_idle_hours_and_twelve_hours_in_all(app):
    assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]) == (120, 12)


def test_a_session_left_idle_too_long_ends(session, people, browser, clock):
    bob = browser().login(people["admin"])
    clock.advance(minutes=119)
    assert bob.get(OVERVIEW).status_code == 200
    clock.advance(minutes=119)  # idle time counts from the last request, not from login
    assert bob.get(OVERVIEW).status_code == 200
    clock.advance(minutes=120)
    assert_sent_to_login(bob.get(OVERVIEW))
    assert session.scalars(select(UserSession.ended_reason)).all() == ["expired"]


def test_a_session_ends_after_its_absolute_lifetime_however_busy(people, browser, clock):
    bob = browser().login(people["admin"])
    for _ in range(7):
        clock.advance(minutes=100)
        assert bob.get(OVERVIEW).status_code == 200  # 11 h 40 min after login
    clock.advance(minutes=20)
    assert_sent_to_login(bob.get(OVERVIEW))


def test_lifetimes_follow_the_settings(app, people, browser, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    bob = browser().login(people["admin"])
    clock.advance(minutes=4)
    assert bob.get(OVERVIEW).status_code == 200
    clock.advance(minutes=5)
    assert_sent_to_login(bob.get(OVERVIEW))


def test_last_seen_is_written_at_most_once_a_minute(session, people, browser, clock):
    bob = browser().login(people["admin"])
    logged_in_at = clock.now
    clock.advance(seconds=30)
    bob.get(OVERVIEW)
    session.expire_all()
    assert session.scalar(select(UserSession.last_seen_at)) == logged_in_at
    clock.advance(seconds=31)
    bob.get(OVERVIEW)
    session.expire_all()
    assert session.scalar(select(UserSession.last_seen_at)) == clock.now


def test_active_sessions_leave_out_expired_ones(people, browser, clock):
    browser().login(people["admin"])
    clock.advance(minutes=150)
    bob = browser().login(people["admin"])
    rows = table_rows(bob.get("/settings/account"), "Active sessions")
    assert len(rows) == 1 and rows[0][0].endswith("This session")
    assert rows[0][2] == "Today 11:30"  # in words, on the workspace's clock (UTC here)


def test_logging_out_others_counts_only_the_sessions_still_in_use(people, browser, clock):
    browser().login(people["admin"])
    clock.advance(minutes=150)  # that first session has been idle past its lifetime
    bob = browser().login(people["admin"])
    page = bob.client.post("/settings/account/sessions/end-others",
                           headers={"X-CSRFToken": bob.csrf_token}, follow_redirects=True)
    assert "There were no other sessions." in page.get_data(as_text=True)


def test_sessions_keep_working_while_redis_is_down(app, session, people, browser, monkeypatch):
    dead = Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setitem(app.config, "REDIS_URL", DEAD_REDIS)
    monkeypatch.setitem(app.extensions, "redis", dead)
    monkeypatch.setitem(app.extensions, "usage_redis", dead)
    bob = browser().login(people["admin"])
    assert bob.get(OVERVIEW).status_code == 200
    assert bob.get("/settings/account").status_code == 200
    copied = session_cookie(bob.client)
    assert bob.post("/logout").status_code == 302
    assert_sent_to_login(replay(browser, copied))
