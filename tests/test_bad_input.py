"""Bad input the route walk found answered with 500s, each fix pinned by name; and junk sent to
the OAuth endpoints by a client that authenticates properly."""
from __future__ import annotations

import base64

import pytest

from tests.html import alerts
from tests.oauth.conftest import OAuthFlow, basic_auth, client_app  # noqa: F401  (fixture)
from tests.route_walk import JUNK
from tests.security_world import build_world, changed_tables, snapshot
from webapp.extensions import db


def test_an_id_beyond_an_integer_column_is_404(session, people, browser):
    build_world(session, people)
    admin = browser(people["admin"])
    for url in ("/settings/connected-apps/notifications/99999999999999999999/manage",
                f"/settings/connected-apps/notifications/{2**31}/manage"):
        assert admin.get(url).status_code == 404
    assert admin.post(f"/notifications/{2**31}/open").status_code == 404


def test_nul_characters_are_refused_with_400_wherever_they_come(session, people, browser, app):
    world = build_world(session, people)
    admin = browser(people["admin"])
    assert admin.get("/marketplace/%00").status_code == 400
    assert admin.get("/marketplace/?q=%00").status_code == 400
    assert admin.get("/settings/connected-apps/?activity=a%00b").status_code == 400
    response = browser().client.post("/login", data={"email": "a\x00@acme.test", "password": "x"})
    assert response.status_code == 400
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {world.api_tokens['acme']}"}
    response = api.post("/api/v1/accounts", json={"external_id": "x", "name": "a\x00"}, headers=bearer)
    assert response.status_code == 400 and "NUL" in response.get_json()["detail"]
    basic = {"Authorization": "Basic " + base64.b64encode(b"client\x00:secret").decode()}
    response = api.post("/oauth/token", data={"grant_type": "refresh_token"}, headers=basic)
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["response_type=%C3%BC", "response_type=%22", "scope=%01",
                                   "state=%E2%9C%93"])
def test_authorize_explains_characters_a_request_may_not_carry(people, browser, query):
    response = browser(people["admin"]).get(f"/oauth/authorize?client_id=x&{query}")
    assert response.status_code == 400
    assert "authorization request is not valid" in " ".join(alerts(response))


@pytest.mark.parametrize("form, status, message", [
    ({"rule_id": "9" * 30}, 404, "This notification does not exist."),
    ({"step": "3", "name": "x", "all_apps": "1", "audience": "specific", "user_ids": "9" * 30},
     400, "Users must be ids."),
    ({"step": "3", "name": "x", "all_apps": "1", "audience": "specific", "team_ids": "9" * 30},
     400, "Teams must be ids."),
])
def test_wizard_ids_beyond_an_integer_column_are_refused(session, people, browser, form, status,
                                                         message):
    build_world(session, people)
    response = browser(people["admin"]).post("/settings/connected-apps/notifications/wizard", data=form)
    assert response.status_code == status
    assert alerts(response) == [message]


def test_a_body_larger_than_a_megabyte_is_413(session, people, browser, app):
    world = build_world(session, people)
    bearer = {"Authorization": f"Bearer {world.api_tokens['acme']}"}
    response = app.test_client().post("/api/v1/accounts", data="x" * (1024 * 1024 + 1),
                                      content_type="application/json", headers=bearer)
    assert response.status_code == 413 and response.get_json()["title"] == "Request Entity Too Large"
    admin = browser(people["admin"])
    response = admin.post("/settings/connected-apps/notifications/wizard",
                          data={"name": "x" * (1024 * 1024)})
    assert response.status_code == 413


def test_oauth_endpoints_answer_junk_from_an_authenticated_client_with_oauth_errors(
        client_app, browser, people, session):  # noqa: F811
    flow = OAuthFlow(client_app, browser(people["admin"]), people["admin"])
    tokens = flow.tokens()
    before = snapshot()
    names = ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
             "token", "token_type_hint", "client_id")
    problems = []
    for endpoint in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        for value in JUNK:
            if "\x00" in value:
                continue  # refused before Authlib sees it (test_nul_characters_...)
            for form in [{name: value} for name in names] + [{name: value for name in names}]:
                for grant_type in ("authorization_code", "refresh_token", None):
                    data = {**form, **({"grant_type": grant_type} if grant_type else {})}
                    try:
                        response = flow.browser.client.post(endpoint, data=data,
                                                            headers=basic_auth(client_app.client_id))
                    except Exception as error:
                        db.session.rollback()
                        problems.append(f"{endpoint} {data}: {type(error).__name__}: {error}")
                        continue
                    body = response.get_json(silent=True) or {}
                    if response.status_code >= 500 or ("error" not in body and response.status_code
                                                       != 200):
                        problems.append(f"{endpoint} {data}: {response.status_code}")
                    if "access_token" in body:
                        problems.append(f"{endpoint} {data}: issued a token for junk")
    assert not problems, "\n".join(problems[:40])
    assert changed_tables(before, snapshot()) == []
    assert flow.introspect(tokens["access_token"]).get_json()["active"] is True


@pytest.mark.parametrize("body", ['{"external_id": "\\ud800", "name": "x"}',
                                  '{"external_id": "ok", "name": "\\udfff"}',
                                  '{"external_id": "ok", "name": "x", "\\ud800": 1}',
                                  '{"a": ' * 5000 + "1" + "}" * 5000,
                                  '{"a": ' * 900 + '"\\u0000"' + "}" * 900])
def test_json_no_field_can_hold_is_refused_with_400(session, people, app, body):
    world = build_world(session, people)
    response = app.test_client().post(
        "/api/v1/accounts", data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {world.api_tokens['acme']}"})
    detail = response.get_json()["detail"]
    assert response.status_code == 400
    assert "no field accepts" in detail or "nested too deeply" in detail  # refused before the API


def test_a_deep_but_readable_json_body_gets_the_apis_own_answer(session, people, app):
    world = build_world(session, people)
    response = app.test_client().post(
        "/api/v1/accounts", data='{"a": ' * 900 + "1" + "}" * 900, content_type="application/json",
        headers={"Authorization": f"Bearer {world.api_tokens['acme']}"})
    assert response.status_code == 400 and response.get_json()["field"] == "external_id"
