"""The log says why: "Details" in words and the app as the actor of what the app did."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import make_app
from tests.html import parse, region, table_rows
from webapp.models import Installation
from webapp.services import alerts, lifecycle
from webapp.services.event_details import actor_label, details_words, problem_words
from webapp.services.expiry import expire_installation

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("activity, details, actor, words", [
    ("disconnected", {"reason": "revoked_by_app"}, None, "Revoked by the app"),
    ("disconnected", {"reason": "refresh_token_reuse"}, None, "Refresh token reused"),
    ("disconnected", {"reason": "admin_disconnected"}, "Bob Admin", "Disconnected by Bob Admin"),
    ("disconnected", {"user_grant": True}, "Carol User", "Withdrawn by Carol User"),
    ("disconnected", {"user_grant": True, "reason": "revoked_by_app", "user_id": 3}, None,
     "Revoked by the app, for one user's connection"),
    ("expired", {"reason": "No refresh token was used for 90 days"}, None,
     "No refresh token was used for 90 days"),
    ("error", {"reason": "Health check failing: HTTP 503", "source": "health", "key": "health"},
     None, "Health check failing: HTTP 503"),
    ("reauthenticated", {"scopes": ["contacts.write", "files.read"]}, "Bob Admin",
     "New scopes: contacts.write, files.read"),
    ("sync_off", {"key": "contact_sync", "label": "Contact sync"}, "Bob Admin", "Contact sync"),
    ("uninstalled", {"resolved_alerts": 2}, "Bob Admin", "Resolved 2 open alerts"),
    ("reconnected", {"resolved_alerts": 1}, "Bob Admin", "Resolved 1 open alert"),
    ("installed", {"user_grant": True}, "Carol User", "Connected for themself"),
    ("installed", {}, "Bob Admin", ""),
    ("disconnected", {"reason": "some_new_code"}, None, "Some new code"),
])
def test_details_say_why_in_words(activity, details, actor, words):
    assert details_words(activity, details, actor) == words


def test_the_actor_is_the_person_the_app_or_the_system():
    assert actor_label("Bob Admin", False, "Crm") == "Bob Admin"
    assert actor_label(None, True, "Crm") == "Crm"
    # The reason alone says the app did it (history written in bulk records no actor flag).
    assert actor_label(None, False, "Crm", {"reason": "revoked_by_app"}) == "Crm"
    assert actor_label(None, False, "Crm", {"reason": "No refresh token was used"}) == "System"


@pytest.mark.parametrize("activity, details, actor, words", [
    ("disconnected", {"reason": "revoked_by_app"}, None, "Disconnected: revoked by the app"),
    ("disconnected", {"reason": "admin_disconnected"}, "Bob Admin", "Disconnected by Bob Admin"),
    ("expired", {"reason": "No refresh token was used for 90 days"}, None,
     "Expired: no refresh token was used for 90 days"),
    ("disconnected", {}, None, "Disconnected"),
])
def test_a_problem_is_its_status_and_why(activity, details, actor, words):
    assert problem_words(activity, details, actor) == words


def log_of(browser, people) -> list[list[str]]:
    page = parse(browser(people["admin"]).get("/settings/connected-apps/"))
    return table_rows(region(page, "App log"), "App log, newest first")


def test_the_log_names_the_app_for_what_the_app_did_and_says_why(session, people, browser):
    acme, admin = people["acme"], people["admin"]
    crm = make_app(session, "crm", name="Crm")
    grant = lifecycle.consent(session, acme, crm, admin, ["contacts.read"], now=NOW)
    installation = session.get(Installation, grant.installation_id)
    lifecycle.revoke_grant(session, grant.id, "revoked_by_app", now=NOW + timedelta(hours=1))
    lifecycle.consent(session, acme, crm, admin, ["contacts.read"], now=NOW + timedelta(hours=2))
    alerts.open_or_bump(session, installation, "app", "sync-stalled", "Sync stalled",
                        now=NOW + timedelta(hours=3))
    alerts.open_or_bump(session, installation, "health", "health",
                        "Health check failing: HTTP 503", now=NOW + timedelta(hours=4))
    expire_installation(session, installation, NOW + timedelta(hours=5), 90)
    lifecycle.uninstall(session, installation, admin, now=NOW + timedelta(hours=6))
    session.commit()

    rows = [[activity, app, user, details] for activity, app, user, _, details
            in log_of(browser, people)]
    assert rows == [
        ["Uninstalled", "Crm", "Bob Admin", "Resolved 3 open alerts"],
        ["Expired", "Crm", "System", "No refresh token was used for 90 days"],
        ["Error", "Crm", "System", "Health check failing: HTTP 503"],
        ["Error", "Crm", "Crm", "Sync stalled"],
        ["Reconnected", "Crm", "Bob Admin", ""],
        ["Disconnected", "Crm", "Crm", "Revoked by the app"],
        ["Installed", "Crm", "Bob Admin", ""],
    ]
    export = browser(people["admin"]).get("/settings/connected-apps/log.csv")
    header, *lines = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert header == ["Activity", "App", "User", "Date", "Details"]
    assert [[a, b, c, e] for a, b, c, _, e in lines] == rows
