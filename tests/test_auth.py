from tests.conftest import PASSWORD, login_form_token
from tests.html import alerts, field


def test_every_page_needs_login(app):
    response = app.test_client().get("/settings/connected-apps/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_with_right_password_reaches_connected_apps(people, browser):
    client = browser().login(people["admin"]).client
    response = client.get("/")
    assert response.headers["Location"].endswith("/settings/connected-apps/")


def test_wrong_password_is_refused_with_a_message(people, browser):
    b = browser()
    token = login_form_token(b.client.get("/login"))
    response = b.client.post("/login", data={"email": people["admin"].email, "password": "nope",
                                             "csrf_token": token})
    assert response.status_code == 401
    assert alerts(response) == ["Wrong email or password."]
    assert field(response, "Email")["value"] == people["admin"].email  # kept for the next try


def test_repeated_failures_get_429_with_a_clear_message(people, browser):
    b = browser()
    token = login_form_token(b.client.get("/login"))
    statuses = [b.client.post("/login", data={"email": people["user"].email, "password": "bad",
                                              "csrf_token": token}).status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    blocked = b.client.post("/login", data={"email": people["user"].email, "password": PASSWORD,
                                            "csrf_token": token})
    assert blocked.status_code == 429
    assert alerts(blocked) == ["Too many failed attempts. Wait a minute, then try again."]


def test_login_without_csrf_token_is_refused(people, app):
    response = app.test_client().post("/login", data={"email": people["admin"].email,
                                                      "password": PASSWORD})
    assert response.status_code == 400


def test_deactivated_user_cannot_log_in(people, browser, session):
    people["user"].active = False
    session.commit()
    b = browser()
    token = login_form_token(b.client.get("/login"))
    response = b.client.post("/login", data={"email": people["user"].email, "password": PASSWORD,
                                             "csrf_token": token})
    assert response.status_code == 401
    assert alerts(response) == ["Wrong email or password."]  # nothing tells the account exists


def test_next_parameter_cannot_redirect_off_site(people, browser):
    b = browser()
    token = login_form_token(b.client.get("/login"))
    response = b.client.post("/login?next=//evil.example/x", data={
        "email": people["admin"].email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/settings/connected-apps/"


def test_pages_carry_a_strict_content_security_policy(people, browser):
    response = browser(people["admin"]).client.get("/settings/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_logout_needs_post(people, browser):
    b = browser(people["admin"])
    assert b.client.get("/logout").status_code == 405
    assert b.post("/logout").status_code == 302
    assert b.client.get("/settings/").status_code == 302


def test_the_console_stores_passwords_as_scrypt_hashes(session, people):
    from webapp.services.accounts import authenticate, create_user

    user = create_user(session, people["acme"], "dora@acme.test", "a-long-password")
    session.commit()
    assert user.password_hash.startswith("scrypt:")
    assert "a-long-password" not in user.password_hash
    assert authenticate(session, "dora@acme.test", "a-long-password") == user
    assert authenticate(session, "dora@acme.test", "a-wrong-password") is None
