"""Login sessions live on the server: logging out, a password change, deactivation and "Log out
other sessions" end them at once, and a copied cookie stops working with them."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.conftest import PASSWORD
from tests.html import alerts, button, field, link, table_rows
from webapp.database import utcnow
from webapp.models import UserSession
from webapp.services.accounts import deactivate_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
OVERVIEW = "/settings/connected-apps/"


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def replay(browser, cookie: str):
    """What a second browser holding a copy of the cookie gets on the overview."""
    thief = browser().client
    thief.set_cookie("session", cookie)
    return thief.get(OVERVIEW)


def assert_sent_to_login(response):
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_cookie_copied_before_logout_is_refused_after_it(app, people, browser):
    bob = browser().login(people["admin"])
    copied = session_cookie(bob.client)
    assert replay(browser, copied).status_code == 200
    assert bob.post("/logout").status_code == 302
    assert_sent_to_login(replay(browser, copied))
    assert_sent_to_login(bob.get(OVERVIEW))


def test_logging_out_says_so_and_the_login_form_still_works(people, browser):
    bob = browser().login(people["admin"])
    page = bob.client.get(bob.post("/logout").headers["Location"])
    assert "You have been logged out." in page.get_data(as_text=True)
    bob.login(people["admin"])
    assert bob.get(OVERVIEW).status_code == 200


def test_logging_in_gives_a_new_session_id(app, people, browser):
    visitor = browser()
    visitor.client.get("/login")
    before = session_cookie(visitor.client)
    visitor.login(people["admin"])
    first = session_cookie(visitor.client)
    assert first and first != before
    again = visitor.post("/login", data={"email": people["admin"].email, "password": PASSWORD,
                                         "csrf_token": visitor.csrf_token})  # same person again
    assert again.status_code == 302
    second = session_cookie(visitor.client)
    assert second != first
    assert_sent_to_login(replay(browser, first))
    assert replay(browser, second).status_code == 200


def test_the_cookie_carries_only_a_random_id_and_the_table_only_its_hash(session, people, browser):
    bob = browser().login(people["admin"])
    cookie = session_cookie(bob.client)
    assert "." not in cookie and len(cookie) == 43
    stored = session.scalars(select(UserSession.id_hash)).all()
    assert len(stored) == 1 and cookie not in stored[0] and len(stored[0]) == 64


def test_anonymous_visitors_get_no_session_row(session, people, app):
    visitor = app.test_client()
    for _ in range(3):
        visitor.get("/login")
    assert session.scalar(select(func.count(UserSession.id))) == 0


def test_a_signed_login_cookie_from_before_is_refused(app, people, browser):
    from flask.sessions import SecureCookieSessionInterface

    signer = SecureCookieSessionInterface().get_signing_serializer(app)
    forged = signer.dumps({"_user_id": str(people["admin"].id), "_fresh": True})
    assert_sent_to_login(replay(browser, forged))


def test_log_out_other_sessions_keeps_only_this_one(people, browser):
    at_desk = browser()
    at_desk.client.environ_base["HTTP_USER_AGENT"] = FIREFOX
    at_desk.login(people["admin"])
    on_phone = browser()
    on_phone.client.environ_base["HTTP_USER_AGENT"] = SAFARI
    on_phone.login(people["admin"])
    page = at_desk.get("/settings/account")
    rows = table_rows(page, "Active sessions")
    assert [row[0] for row in rows] == ["Safari on iPhone", "Firefox on Linux This session"]
    assert button(page, "Log out other sessions")
    done = at_desk.post("/settings/account/sessions/end-others")
    assert done.headers["Location"] == "/settings/account"
    assert_sent_to_login(on_phone.get(OVERVIEW))
    page = at_desk.get("/settings/account")
    assert "Other sessions logged out." in page.get_data(as_text=True)
    rows = table_rows(page, "Active sessions")
    assert [row[0] for row in rows] == ["Firefox on Linux This session"]


def test_log_out_other_sessions_needs_the_csrf_token(people, browser):
    bob = browser(people["admin"])
    other = browser(people["admin"])
    response = bob.client.post("/settings/account/sessions/end-others")
    assert response.status_code == 400
    assert other.get(OVERVIEW).status_code == 200


def test_changing_the_password_logs_out_every_other_session(session, people, browser):
    here = browser().login(people["admin"])
    elsewhere = browser().login(people["admin"])
    carol = browser().login(people["user"])
    response = here.post("/settings/account/password", data={
        "current_password": PASSWORD, "new_password": "a-new-long-secret",
        "confirm_password": "a-new-long-secret"})
    assert response.status_code == 302
    assert here.get(OVERVIEW).status_code == 200
    assert_sent_to_login(elsewhere.get(OVERVIEW))
    assert carol.get(OVERVIEW).status_code == 200  # another user's sessions are untouched
    session.expire_all()
    assert check_password_hash(people["admin"].password_hash, "a-new-long-secret")
    browser().login(people["admin"], "a-new-long-secret")


def test_a_wrong_current_password_changes_nothing(session, people, browser):
    here = browser().login(people["admin"])
    elsewhere = browser().login(people["admin"])
    response = here.post("/settings/account/password", data={
        "current_password": "not-it-at-all", "new_password": "a-new-long-secret",
        "confirm_password": "a-new-long-secret"})
    assert response.status_code == 422
    assert alerts(response) == ["The current password is not right."]
    assert field(response, "Current password")["aria-invalid"] == "true"
    assert elsewhere.get(OVERVIEW).status_code == 200
    browser().login(people["admin"])  # the old password still works


def test_new_passwords_must_match_and_be_long_enough(people, browser):
    here = browser(people["admin"])
    differ = here.post("/settings/account/password", data={
        "current_password": PASSWORD, "new_password": "a-new-long-secret",
        "confirm_password": "another-long-secret"})
    assert differ.status_code == 422 and alerts(differ) == ["The two new passwords differ."]
    short = here.post("/settings/account/password", data={
        "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"})
    assert short.status_code == 422
    assert alerts(short) == ["The new password must be at least 8 characters long."]


def test_deactivation_ends_every_session_at_once(session, people, browser):
    carol = browser().login(people["user"])
    also_carol = browser(people["user"])
    deactivate_user(session, people["user"], utcnow())
    session.commit()
    assert_sent_to_login(carol.get(OVERVIEW))
    assert_sent_to_login(also_carol.get(OVERVIEW))
    assert session.scalar(select(func.count(UserSession.id))
                          .where(UserSession.ended_reason == "deactivated")) == 2


def test_the_command_line_sets_a_password_and_deactivates(app, session, people, browser):
    carol = browser(people["user"])
    runner = CliRunner()
    changed = runner.invoke(app.cli, ["users", "set-password", "carol@acme.test",
                                      "--password", "brand-new-secret"])
    assert changed.exit_code == 0, changed.output
    assert "1 session(s) ended" in changed.output
    assert_sent_to_login(carol.get(OVERVIEW))
    carol = browser().login(people["user"], "brand-new-secret")
    gone = runner.invoke(app.cli, ["users", "deactivate", "carol@acme.test"])
    assert gone.exit_code == 0 and "1 session(s) ended" in gone.output
    assert_sent_to_login(carol.get(OVERVIEW))
    unknown = runner.invoke(app.cli, ["users", "deactivate", "nobody@acme.test"])
    assert unknown.exit_code != 0 and "no user with email nobody@acme.test" in unknown.output


def test_your_account_is_in_the_settings_sidebar(people, browser):
    page = browser(people["user"]).get("/settings/")
    assert link(page, "Your account")["href"] == "/settings/account"
