"""The authorization endpoint and consent page (RFC 6749 4.1, RFC 9700 4.1, RFC 9207)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.html import alerts, button, by_role, heading, names, parse, region, text_of
from tests.oauth.conftest import REDIRECT_URI, OAuthFlow, query_of
from webapp.models import AuthorizationCode, Event, Installation

ATTACKER_REDIRECTS = [
    REDIRECT_URI + "/",                                    # trailing slash
    "https://ACME-SYNC.example/callback",                  # case
    "https://acme-sync.example/Callback",                  # path case
    REDIRECT_URI + "?next=https://evil.example",           # extra query
    REDIRECT_URI + "#frag",                                # fragment
    "https://acme-sync.example:8443/callback",             # port
    "http://acme-sync.example/callback",                   # http instead of https
    "https://evil@acme-sync.example/callback",             # userinfo
    "https://acme-sync.example.evil.example/callback",     # suffix domain
]


@pytest.mark.parametrize("redirect_uri", ATTACKER_REDIRECTS)
def test_it_refuses_every_redirect_uri_mutation_without_redirecting(flow, session, redirect_uri):
    for response in (flow.browser.get(flow.authorize_url(redirect_uri=redirect_uri)),
                     flow.consent(redirect_uri=redirect_uri)):
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "not valid" in response.get_data(as_text=True)
    assert session.scalars(select(AuthorizationCode)).all() == []
    assert session.scalar(select(Installation)) is None


def test_it_requires_the_redirect_uri_in_the_request(flow):
    response = flow.browser.get(flow.authorize_url(redirect_uri=None))
    assert response.status_code == 400 and "Location" not in response.headers


def test_unknown_client_gets_an_error_page_not_a_redirect(flow):
    response = flow.browser.get(flow.authorize_url(client_id="nobody"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "Cannot connect app" in response.get_data(as_text=True)


def test_app_without_redirect_uris_is_not_a_client(session, flow):
    flow.app.redirect_uris = []
    session.commit()
    response = flow.browser.get(flow.authorize_url())
    assert response.status_code == 400 and "Location" not in response.headers


def test_login_is_required_and_leads_back(flow, app):
    with app.app_context():  # a fresh context: nobody logged in
        response = app.test_client().get(flow.authorize_url())
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "oauth" in response.headers["Location"]


def scopes(html, group) -> list[str]:
    """The scopes listed under a heading of the consent page, each as its line reads."""
    return [text_of(item) for item in by_role(region(html, group), "listitem")]


def test_consent_page_names_app_vendor_workspace_and_scopes(flow):
    page = flow.browser.get(flow.authorize_url(scope="contacts.read contacts.write audit_logs.read"))
    html = parse(page)
    assert page.status_code == 200
    assert heading(html, "Connect Acme Sync", level=1)
    assert "Acme Sync by Acme asks to access the workspace Acme (Professional plan)." in text_of(html)
    assert html.find("strong").get_text() == "Acme"
    assert scopes(html, "Required") == ["contacts.read Read contacts and their properties Read"]
    assert scopes(html, "Optional") == [
        "contacts.write Create, update and delete contacts Write",
        "audit_logs.read Read the workspace's audit log Admin Needs the Enterprise plan"]
    assert names(html, "button")[-2:] == ["Connect app", "Cancel"]


def test_connect_redirects_with_code_state_and_iss(flow, session):
    response = flow.consent()
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "st-123" and params["iss"] == "http://localhost" and params["code"]
    stored = session.scalar(select(AuthorizationCode))
    assert stored.code_hash != params["code"]  # stored hashed
    installation = session.scalar(select(Installation))
    assert installation.state == "installed" and installation.installed_by_id == flow.user.id
    assert [e.activity for e in session.scalars(select(Event))] == ["installed"]


def test_optional_scope_beyond_the_plan_is_left_out_of_the_grant(flow, session):
    flow.tokens(scope="contacts.read audit_logs.read")
    installation = session.scalar(select(Installation))
    assert installation.granted_scopes == ["contacts.read"]
    assert installation.upgrade_available is True


def test_cancel_redirects_with_access_denied_state_and_iss(flow, session):
    response = flow.consent(decision="cancel")
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    params = query_of(response.headers["Location"])
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", "st-123",
                                                                 "http://localhost")
    assert "code" not in params
    assert session.scalar(select(Installation)) is None


def test_required_scope_beyond_the_plan_blocks_install(session, people, browser):
    app = make_app(session, "audit-pro", name="Audit Pro", redirect_uris=[REDIRECT_URI],
                   required_scopes=["contacts.read", "audit_logs.read"], optional_scopes=[],
                   client_id="audit-pro-client")
    session.commit()
    flow = OAuthFlow(app, browser(people["admin"]), people["admin"])
    page = flow.browser.get(flow.authorize_url(scope="contacts.read audit_logs.read"))
    html = parse(page)
    assert alerts(html) == ["Audit Pro needs the Enterprise plan for audit_logs.read."]
    assert "Connect app" not in names(html, "button") and button(html, "Cancel")
    response = flow.consent(scope="contacts.read audit_logs.read")
    assert response.status_code == 400 and "Location" not in response.headers
    assert session.scalar(select(Installation)) is None


def test_reauthentication_marks_new_scopes(flow):
    flow.tokens(scope="contacts.read")
    html = parse(flow.browser.get(flow.authorize_url(scope="contacts.read contacts.write")))
    assert "asks to extend its access to the workspace Acme" in text_of(html)
    assert [s.endswith(" New") for s in scopes(html, "Required") + scopes(html, "Optional")] == [
        False, True]
    assert scopes(html, "Optional")[0].startswith("contacts.write")


def test_request_for_another_workspace_is_refused(flow):
    response = flow.browser.get(flow.authorize_url(workspace="globex"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "another workspace" in " ".join(alerts(response))
    assert flow.browser.get(flow.authorize_url(workspace="acme")).status_code == 200


def test_consent_post_needs_the_csrf_token(flow):
    flow.browser.csrf_token = None
    response = flow.consent()
    assert response.status_code == 400 and "Location" not in response.headers


def test_implicit_grant_is_refused(flow):
    response = flow.browser.get(flow.authorize_url(response_type="token"))
    params = query_of(response.headers["Location"])
    assert params["error"] == "unsupported_response_type" and params["iss"] == "http://localhost"
    assert "access_token" not in response.headers["Location"]


def test_unknown_scope_is_refused_with_invalid_scope(flow):
    response = flow.browser.get(flow.authorize_url(scope="contacts.read files.write"))
    assert query_of(response.headers["Location"])["error"] == "invalid_scope"


def test_a_plain_user_cannot_connect_an_account_level_app(client_app, browser, people, session):
    flow = OAuthFlow(client_app, browser(people["user"]), people["user"])
    html = parse(flow.browser.get(flow.authorize_url()))
    assert "ask an admin" in " ".join(alerts(html)) and "Connect app" not in names(html, "button")
    response = flow.consent()
    assert response.status_code == 400 and "Location" not in response.headers
    assert session.scalar(select(Installation)) is None


def test_a_plain_user_connects_a_user_level_app_for_themself(client_app, browser, people, session):
    client_app.install_level = "user"
    session.commit()
    flow = OAuthFlow(client_app, browser(people["user"]), people["user"])
    assert flow.tokens()["access_token"]
    installation = session.scalar(select(Installation))
    assert installation.installed_by_id == people["user"].id
