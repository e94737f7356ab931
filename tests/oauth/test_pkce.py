"""PKCE (RFC 7636) as RFC 9700 requires it: S256, from every client, public or confidential."""
from __future__ import annotations

from sqlalchemy import select

from tests.oauth.conftest import Pkce, query_of
from webapp.models import AuthorizationCode


def test_missing_challenge_is_refused(flow, session):
    response = flow.consent(code_challenge=None, code_challenge_method=None)
    params = query_of(response.headers["Location"])
    assert params["error"] == "invalid_request" and "code" not in params
    assert session.scalars(select(AuthorizationCode)).all() == []


def test_plain_method_is_refused(flow):
    response = flow.consent(code_challenge=flow.pkce.verifier, code_challenge_method="plain")
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_missing_method_is_refused_rather_than_defaulting_to_plain(flow):
    response = flow.consent(code_challenge_method=None)
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_malformed_challenge_is_refused(flow):
    response = flow.consent(code_challenge="short")
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_wrong_verifier_is_refused(flow):
    response = flow.exchange(flow.code(), verifier=Pkce().verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_missing_verifier_is_refused_for_a_confidential_client(flow):
    response = flow.exchange(flow.code(), verifier=None)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_verifier_without_challenge_is_refused(flow, session):
    # Codes are never issued without a challenge; should one exist, a verifier must not pass.
    code = flow.code()
    stored = session.scalar(select(AuthorizationCode))
    stored.code_challenge = ""
    session.commit()
    response = flow.exchange(code)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "code_challenge" in response.get_json()["error_description"]


def test_right_verifier_gets_tokens(flow):
    tokens = flow.tokens()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]


def test_public_client_also_needs_pkce(flow, session):
    flow.app.client_secret_hash = None
    session.commit()
    code = flow.code()
    data = {"grant_type": "authorization_code", "code": code, "client_id": flow.app.client_id,
            "redirect_uri": flow.params()["redirect_uri"]}
    refused = flow.browser.client.post("/oauth/token", data=data)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_request"
    code = flow.code()
    accepted = flow.browser.client.post("/oauth/token", data={
        **data, "code": code, "code_verifier": flow.pkce.verifier})
    assert accepted.status_code == 200, accepted.get_json()
