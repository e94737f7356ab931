"""The accounts API: a multi-account app reports its external accounts with its access token."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.api_support import issue_token
from tests.conftest import make_app
from tests.html import region, table_rows
from webapp.models import ExternalAccount, Installation
from webapp.services import lifecycle



@pytest.fixture
def social(session, people):
    return make_app(session, "social-hub", name="Social Hub", install_level="multi_account")


@pytest.fixture
def token(session, people, social):
    return issue_token(session, people["acme"], social, people["admin"])




def accounts_in_db(session):
    session.expire_all()
    return {a.external_id: (a.name, a.status) for a in session.scalars(select(ExternalAccount))}


def test_it_adds_lists_updates_and_removes_accounts(api, token, session):
    added = api("POST", "/api/v1/accounts", token,
                json={"external_id": "li-42", "name": "Acme on LinkedIn"})
    assert added.status_code == 201
    assert added.json["status"] == "connected"
    assert added.headers["Location"].endswith("/api/v1/accounts/li-42")
    api("POST", "/api/v1/accounts", token,
        json={"external_id": "tw-7", "name": "Acme on X", "status": "error"})

    listed = api("GET", "/api/v1/accounts", token)
    assert listed.status_code == 200
    assert [(a["external_id"], a["status"]) for a in listed.json["accounts"]] == [
        ("li-42", "connected"), ("tw-7", "error")]

    changed = api("PATCH", "/api/v1/accounts/tw-7", token, json={"status": "connected",
                                                                  "name": "Acme on X (main)"})
    assert changed.status_code == 200
    assert changed.json["name"] == "Acme on X (main)"
    assert api("GET", "/api/v1/accounts/tw-7", token).json["status"] == "connected"

    assert api("DELETE", "/api/v1/accounts/li-42", token).status_code == 204
    assert accounts_in_db(session) == {"tw-7": ("Acme on X (main)", "connected")}


def test_adding_an_existing_account_is_a_conflict(api, token, session):
    body = {"external_id": "li-42", "name": "Acme on LinkedIn"}
    assert api("POST", "/api/v1/accounts", token, json=body).status_code == 201
    again = api("POST", "/api/v1/accounts", token, json={**body, "name": "Other"})
    assert again.status_code == 409
    assert again.json["title"] == "Not possible now" and again.json["field"] == "external_id"
    assert accounts_in_db(session) == {"li-42": ("Acme on LinkedIn", "connected")}


@pytest.mark.parametrize("body, field", [
    ({"name": "No id"}, "external_id"),
    ({"external_id": "x"}, "name"),
    ({"external_id": "x", "name": "X", "status": "sleeping"}, "status"),
    ({"external_id": "", "name": "X"}, "external_id"),
    ({"external_id": 12, "name": "X"}, "external_id"),
    ({"external_id": "x" * 201, "name": "X"}, "external_id"),
])
def test_bad_fields_are_refused_naming_the_field(api, token, body, field):
    response = api("POST", "/api/v1/accounts", token, json=body)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == field and field in response.json["detail"]


def test_a_body_that_is_not_a_json_object_is_refused(api, token):
    for kwargs in ({"data": "external_id=x"}, {"json": ["x"]}):
        response = api("POST", "/api/v1/accounts", token, **kwargs)
        assert response.status_code == 400
        assert "JSON object" in response.json["detail"]


def test_updates_check_status_and_fields(api, token):
    api("POST", "/api/v1/accounts", token, json={"external_id": "a", "name": "A"})
    assert api("PATCH", "/api/v1/accounts/a", token, json={"status": "gone"}).status_code == 400
    assert api("PATCH", "/api/v1/accounts/a", token, json={}).status_code == 400
    assert api("PATCH", "/api/v1/accounts/a", token,
               json={"external_id": "b"}).status_code == 400
    for status in ("error", "disconnected", "connected"):
        assert api("PATCH", "/api/v1/accounts/a", token, json={"status": status}).json["status"] == status


def test_unknown_accounts_are_404(api, token):
    for method, kwargs in (("GET", {}), ("PATCH", {"json": {"status": "error"}}), ("DELETE", {})):
        response = api(method, "/api/v1/accounts/nope", token, **kwargs)
        assert response.status_code == 404
        assert response.json["status"] == 404 and "nope" in response.json["detail"]


def test_missing_or_invalid_token_is_401_with_a_bearer_challenge(api, token):
    missing = api("GET", "/api/v1/accounts")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json["detail"].startswith("Send an access token")
    wrong = api("GET", "/api/v1/accounts", "not-a-token")
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    basic = api("GET", "/api/v1/accounts", headers={"Authorization": "Basic " + token})
    assert basic.status_code == 401


def test_a_revoked_or_expired_token_is_401(api, session, people, social, token):
    installation = social_installation(session, people, social)
    lifecycle.uninstall(session, installation, people["admin"])
    session.commit()
    response = api("POST", "/api/v1/accounts", token, json={"external_id": "a", "name": "A"})
    assert response.status_code == 401
    assert accounts_in_db(session) == {}

    lifecycle.consent(session, people["acme"], social, people["admin"], social.all_scopes)
    session.commit()
    expired = issue_token(session, people["acme"], social, people["admin"], expires_in=-1)
    assert api("GET", "/api/v1/accounts", expired).status_code == 401


def social_installation(session, people, social):
    return session.scalar(select(Installation).where(Installation.app_id == social.id,
                                                     Installation.workspace_id == people["acme"].id))


def test_only_multi_account_apps_may_use_it(api, session, people):
    plain = make_app(session, "plain-sync", install_level="account")
    token = issue_token(session, people["acme"], plain, people["admin"])
    response = api("GET", "/api/v1/accounts", token)
    assert response.status_code == 403
    assert response.json["detail"] == "Only multi-account apps report external accounts."


def test_an_app_sees_only_its_own_workspace_accounts(api, session, people, social, token):
    other = issue_token(session, people["globex"], social, people["outsider"])
    api("POST", "/api/v1/accounts", token, json={"external_id": "same", "name": "Acme profile"})
    assert api("GET", "/api/v1/accounts", other).json["accounts"] == []
    assert api("DELETE", "/api/v1/accounts/same", other).status_code == 404
    created = api("POST", "/api/v1/accounts", other, json={"external_id": "same", "name": "Globex"})
    assert created.status_code == 201
    names = [a["name"] for a in api("GET", "/api/v1/accounts", token).json["accounts"]]
    assert names == ["Acme profile"]


def test_browser_sessions_do_not_authenticate_the_api(browser, people, social, token):
    client = browser(people["super_admin"])
    assert client.get("/api/v1/accounts").status_code == 401


def test_accounts_show_under_manage_connection(api, token, browser, people):
    api("POST", "/api/v1/accounts", token, json={"external_id": "li-42", "name": "Acme on LinkedIn",
                                                 "status": "error"})
    page = browser(people["user"]).get("/settings/connected-apps/apps/social-hub")
    assert page.status_code == 200
    [row] = table_rows(region(page, "Manage connection"))
    assert row[:3] == ["Acme on LinkedIn", "li-42", "Error"]


def test_the_openapi_document_describes_every_route(api, app):
    doc = api("GET", "/api/v1/openapi.json")
    assert doc.status_code == 200
    spec = doc.json
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in spec["paths"].items()
                  for method in item if method != "parameters"}
    served = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")),
               method)
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              and rule.endpoint != "api.openapi_document"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
