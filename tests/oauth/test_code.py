"""Authorization codes: hashed, single use, short-lived, bound to client and redirect URI."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.oauth.conftest import OTHER_SECRET, basic_auth
from webapp.database import utcnow
from webapp.models import AuthorizationCode


def test_code_is_single_use_and_its_replay_revokes_its_tokens(flow):
    code = flow.code()
    first = flow.exchange(code)
    assert first.status_code == 200
    tokens = first.get_json()
    assert flow.introspect(tokens["access_token"]).get_json()["active"] is True

    replay = flow.exchange(code)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert flow.introspect(tokens["access_token"]).get_json() == {"active": False}
    assert flow.introspect(tokens["refresh_token"]).get_json() == {"active": False}
    assert flow.refresh(tokens["refresh_token"]).status_code == 400


def test_replay_also_revokes_tokens_refreshed_from_the_code(flow):
    code = flow.code()
    tokens = flow.exchange(code).get_json()
    refreshed = flow.refresh(tokens["refresh_token"]).get_json()
    assert flow.exchange(code).status_code == 400
    assert flow.introspect(refreshed["access_token"]).get_json() == {"active": False}


def test_code_lives_sixty_seconds(flow, session):
    code = flow.code()
    stored = session.scalar(select(AuthorizationCode))
    assert timedelta(seconds=55) < stored.expires_at - utcnow() <= timedelta(seconds=60)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = flow.exchange(code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_code_is_stored_hashed(flow, session):
    code = flow.code()
    stored = session.scalar(select(AuthorizationCode))
    assert code not in (stored.code_hash, stored.scope, stored.redirect_uri)
    assert len(stored.code_hash) == 64


def test_code_is_bound_to_its_client(flow, other_client):
    code = flow.code()
    response = flow.exchange(code, headers=basic_auth(other_client.client_id, OTHER_SECRET))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert flow.exchange(code).status_code == 200


def test_redirect_uri_must_match_at_the_token_endpoint(flow):
    response = flow.exchange(flow.code(), redirect_uri="https://acme-sync.example/callback/")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused_with_401(flow):
    response = flow.exchange(flow.code(), headers=basic_auth(flow.app.client_id, "wrong"))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_client_secret_post_is_accepted(flow):
    from tests.oauth.conftest import SECRET

    response = flow.exchange(flow.code(), headers={}, client_id=flow.app.client_id,
                             client_secret=SECRET)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"


def test_password_grant_is_unsupported(flow):
    response = flow.browser.client.post("/oauth/token", headers=basic_auth(flow.app.client_id),
                                        data={"grant_type": "password", "username": "bob@acme.test",
                                              "password": "x"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_client_credentials_grant_is_unsupported(flow):
    response = flow.browser.client.post("/oauth/token", headers=basic_auth(flow.app.client_id),
                                        data={"grant_type": "client_credentials"})
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_code_of_an_uninstalled_app_gives_no_tokens(flow, session):
    from webapp.models import Installation
    from webapp.services.lifecycle import uninstall

    code = flow.code()
    uninstall(session, session.scalar(select(Installation)), flow.user)
    session.commit()
    response = flow.exchange(code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
