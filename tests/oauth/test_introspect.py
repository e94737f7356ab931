"""Token introspection (RFC 7662): client-authenticated, only the client's own tokens."""
from __future__ import annotations

import time

from tests.oauth.conftest import OTHER_SECRET, basic_auth


def test_active_token_answers_scope_workspace_user_app_and_expiry(flow):
    before = int(time.time())
    tokens = flow.tokens()
    body = flow.introspect(tokens["access_token"]).get_json()
    assert body["active"] is True
    assert body["scope"] == "contacts.read contacts.write"
    assert body["client_id"] == flow.app.client_id
    assert body["token_type"] == "Bearer"
    assert (body["workspace"], body["user"], body["app"]) == ("acme", "bob@acme.test", "acme-sync")
    assert body["sub"] == str(flow.user.id)
    assert before - 1 <= body["iat"] <= time.time() + 1
    assert body["exp"] == body["iat"] + 3600
    assert body["iss"] == "http://localhost"


def test_refresh_token_can_be_introspected(flow):
    tokens = flow.tokens()
    body = flow.introspect(tokens["refresh_token"]).get_json()
    assert body["active"] is True and body["token_type"] == "refresh_token"
    assert body["exp"] > body["iat"] + 3600


def test_without_client_authentication_it_answers_401(flow):
    tokens = flow.tokens()
    response = flow.introspect(tokens["access_token"], headers={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "active" not in response.get_json()


def test_wrong_secret_answers_401(flow):
    tokens = flow.tokens()
    response = flow.introspect(tokens["access_token"],
                               headers=basic_auth(flow.app.client_id, "not-the-secret"))
    assert response.status_code == 401


def test_another_clients_token_is_inactive(flow, other_client):
    tokens = flow.tokens()
    response = flow.introspect(tokens["access_token"],
                               headers=basic_auth(other_client.client_id, OTHER_SECRET))
    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_unknown_token_is_inactive(flow):
    assert flow.introspect("garbage").get_json() == {"active": False}


def test_token_of_an_uninstalled_app_is_inactive(flow, session):
    from sqlalchemy import select

    from webapp.models import Installation
    from webapp.services.lifecycle import uninstall

    tokens = flow.tokens()
    uninstall(session, session.scalar(select(Installation)), flow.user)
    session.commit()
    assert flow.introspect(tokens["access_token"]).get_json() == {"active": False}


def test_expired_token_is_inactive(flow, session):
    from datetime import timedelta

    from sqlalchemy import select

    from webapp.models import Token

    tokens = flow.tokens()
    token = session.scalar(select(Token))
    token.issued_at = token.issued_at - timedelta(seconds=3601)
    session.commit()
    assert flow.introspect(tokens["access_token"]).get_json() == {"active": False}


def test_client_secret_post_works_too(flow):
    from tests.oauth.conftest import SECRET

    tokens = flow.tokens()
    response = flow.browser.client.post("/oauth/introspect", data={
        "token": tokens["access_token"], "client_id": flow.app.client_id, "client_secret": SECRET})
    assert response.get_json()["active"] is True


def test_the_apis_bearer_lookup_agrees_with_introspection(flow, session):
    from sqlalchemy import select

    from webapp.models import Installation
    from webapp.services.lifecycle import disconnect
    from webapp.services.oauth.tokens import find_active_access_token

    tokens = flow.tokens()
    found = find_active_access_token(session, tokens["access_token"])
    assert found is not None and found.app_id == flow.app.id
    assert find_active_access_token(session, tokens["refresh_token"]) is None
    assert find_active_access_token(session, "nope") is None
    disconnect(session, session.scalar(select(Installation)), flow.user, "admin_disconnected")
    session.commit()
    assert find_active_access_token(session, tokens["access_token"]) is None
    assert flow.introspect(tokens["access_token"]).get_json() == {"active": False}
