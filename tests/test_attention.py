"""Overview "Needs your attention": each problem in words, since when, and the action fixing it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.conftest import make_app, make_installation
from tests.html import by_role, column_headers, link, names, parse, region, table_rows
from tests.page_helpers import statements
from webapp.models import ExternalAccount, Grant, Installation
from webapp.services import alerts, attention, lifecycle, summary
from webapp.services.expiry import expire_installation

BASE = "/settings/connected-apps"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def installed(session, people, slug, **app_fields) -> Installation:
    app = make_app(session, slug, **app_fields)
    grant = lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"],
                              now=T0 - timedelta(days=30))
    return session.get(Installation, grant.installation_id)


def account(session, installation, name, status, when) -> ExternalAccount:
    # Written as the accounts API leaves them, without the alert an account in error may open.
    row = ExternalAccount(workspace_id=installation.workspace_id, installation_id=installation.id,
                          external_id=name.lower().replace(" ", "-"), name=name, status=status,
                          updated_at=when)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def troubled(session, people):
    """Acme with a problem of every kind, driven through the services that record them."""
    made = {}
    made["crm"] = crm = installed(session, people, "crm")
    lifecycle.revoke_grant(session, _grant_of(session, crm), "revoked_by_app", now=at(1))
    made["chat"] = chat = installed(session, people, "chat")
    lifecycle.disconnect(session, chat, people["admin"], "admin_disconnected", now=at(2))
    made["files"] = files = installed(session, people, "files", install_level="user")
    expire_installation(session, files, at(3), 90)
    made["mail"] = mail = installed(session, people, "mail")
    alerts.open_or_bump(session, mail, "health", "health", "Health check failing: HTTP 503",
                        now=at(4))
    alerts.open_or_bump(session, mail, "app", "sync", "Sync stalled", now=at(5))
    made["legacy"] = legacy = installed(session, people, "legacy", install_url=None)
    lifecycle.revoke_grant(session, _grant_of(session, legacy), "refresh_token_reuse", now=at(6))
    made["social"] = social = installed(session, people, "social", install_level="multi_account")
    jobs = account(session, social, "Acme Jobs", "error", at(7))
    alerts.open_or_bump(session, social, "app", "account:acme-jobs",
                        "Acme Jobs: the app reports an error", now=at(7), account=jobs)
    account(session, social, "Acme News", "disconnected", at(8))
    account(session, social, "Acme Blog", "error", at(9))
    account(session, social, "Acme Home", "connected", at(9))
    made["fine"] = installed(session, people, "fine")
    gone = installed(session, people, "gone")
    alerts.open_or_bump(session, gone, "health", "health", "Health check failing: timed out",
                        now=at(1))
    lifecycle.uninstall(session, gone, people["admin"], now=at(2))
    theirs = make_installation(session, people["globex"], make_app(session, "theirs"),
                               status="disconnected")
    alerts.open_or_bump(session, theirs, "health", "health", "Globex's own problem", now=at(1))
    session.commit()
    return made


def _grant_of(session, installation) -> int:
    return session.scalar(select(Grant.id).where(Grant.installation_id == installation.id,
                                                 Grant.revoked_at.is_(None)))


EXPECTED = [
    # app, account, problem, source, since
    ("Legacy", None, "Disconnected: refresh token reused", None, at(6)),
    ("Chat", None, "Disconnected by Bob Admin", None, at(2)),
    ("Crm", None, "Disconnected: revoked by the app", None, at(1)),
    ("Files", None, "Expired: no refresh token was used for 90 days", None, at(3)),
    ("Social", "Acme Blog", "Account in error, as the app reports", None, at(9)),
    ("Social", "Acme News", "Account disconnected, as the app reports", None, at(8)),
    ("Social", "Acme Jobs", "Acme Jobs: the app reports an error", "Reported by the app", at(7)),
    ("Mail", None, "Sync stalled", "Reported by the app", at(5)),
    ("Mail", None, "Health check failing: HTTP 503", "Health check", at(4)),
]


def test_every_problem_of_the_workspace_in_words_worst_first(session, people, troubled):
    problems = attention.workspace_problems(session, people["acme"].id)
    assert [(p.app.name, p.account, p.words, p.source, p.since) for p in problems] == EXPECTED


def test_admins_are_offered_the_action_that_fixes_each_problem(session, people, troubled):
    entries = attention.needs_attention(session, people["admin"])
    assert [(e.problem.app.name, e.action) for e in entries] == [
        ("Legacy", "view_app"),  # no install page: it cannot be reconnected from here
        ("Chat", "reconnect"), ("Crm", "reconnect"), ("Files", "reconnect"),
        ("Social", "view_app"), ("Social", "view_app"), ("Social", "view_app"),
        ("Mail", "view_app"), ("Mail", "view_app")]
    assert [e.action for e in attention.needs_attention(session, people["user"])] == [None] * 9


def test_every_installation_the_summary_counts_as_a_problem_is_listed(session, people, troubled):
    numbers = summary.app_summary(session, people["acme"].id)
    problems = attention.workspace_problems(session, people["acme"].id)
    listed = {p.installation.id for p in problems if p.app.install_level != "multi_account"}
    assert numbers.disconnected + numbers.errors == len(listed) == 5


def test_the_overview_lists_the_problems_with_their_fixes_for_admins(people, troubled, browser):
    page = parse(browser(people["admin"]).get(f"{BASE}/"))
    sections = names(page, "heading", level=2)
    assert sections.index("Needs your attention") < sections.index("App summary")  # first
    section = region(page, "Needs your attention")
    assert column_headers(section) == ["App", "Problem", "Since", "Action"]
    rows = table_rows(section)
    assert rows[1] == ["Chat", "Disconnected by Bob Admin", "20 Nov 2026, 11:00", "Reconnect"]
    assert rows[6] == ["Social Account: Acme Jobs",
                       "Acme Jobs: the app reports an error (Reported by the app)",
                       "20 Nov 2026, 16:00", "View app"]
    assert [row[3] for row in rows] == ["View app", "Reconnect", "Reconnect", "Reconnect",
                                        "View app", "View app", "View app", "View app", "View app"]
    crm_row = next(row for row in by_role(section, "row") if by_role(row, "link", "Crm"))
    assert link(crm_row, "Reconnect")["href"] == "http://127.0.0.1:8900/crm/install?workspace=acme"
    assert link(crm_row, "Crm")["href"] == f"{BASE}/apps/crm"
    social_row = next(row for row in by_role(section, "row") if "Acme News" in str(row))
    assert link(social_row, "View app")["href"] == f"{BASE}/apps/social#manage-connection"
    assert "Globex" not in str(section) and "Gone" not in str(section)


def test_people_who_are_not_admins_see_the_list_without_actions(people, troubled, browser):
    section = region(browser(people["user"]).get(f"{BASE}/"), "Needs your attention")
    assert column_headers(section) == ["App", "Problem", "Since"]
    assert len(table_rows(section)) == 9
    assert not by_role(section, "link", "Reconnect") and not by_role(section, "link", "View app")
    assert not by_role(section, "button")


def test_the_heading_is_there_only_when_something_needs_attention(people, browser, session):
    installed(session, people, "fine")
    session.commit()
    page = parse(browser(people["admin"]).get(f"{BASE}/"))
    assert "Needs your attention" not in names(page, "heading")
    assert "App summary" in names(page, "heading")


def test_reconnecting_takes_the_problem_off_the_list(session, people, troubled):
    lifecycle.consent(session, people["acme"], troubled["crm"].app, people["admin"],
                      ["contacts.read"], now=at(10))
    session.commit()
    apps = [p.app.name for p in attention.workspace_problems(session, people["acme"].id)]
    assert "Crm" not in apps and len(apps) == 8


def test_the_list_costs_the_same_queries_however_many_problems(session, people, browser):
    b = browser(people["admin"])

    def break_apps(start, count):
        for n in range(start, start + count):
            installation = installed(session, people, f"broken-{n:02d}",
                                     install_level="user" if n % 2 else "account")
            if n % 3 == 0:
                lifecycle.revoke_grant(session, _grant_of(session, installation), "revoked_by_app")
            elif n % 3 == 1:
                alerts.open_or_bump(session, installation, "health", "health", "Health failing")
            else:
                expire_installation(session, installation, at(n), 90)
        session.commit()

    break_apps(0, 3)
    people["admin"].workspace_id  # loaded before counting, as a request's user is
    with statements() as few:
        assert len(attention.needs_attention(session, people["admin"])) == 3
    with statements() as few_page:
        b.get(f"{BASE}/")
    break_apps(3, 12)
    people["admin"].workspace_id
    with statements() as many:
        assert len(attention.needs_attention(session, people["admin"])) == 15
    with statements() as many_page:
        b.get(f"{BASE}/")
    assert len(few) == len(many) == 3
    assert len(few_page) == len(many_page)
