"""Helpers for the OAuth spec tests: a registered confidential client, PKCE, consent, tokens."""
from __future__ import annotations

import base64
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.conftest import make_app
from webapp.services.oauth.tokens import hash_secret

SECRET = "s3cret-" + "x" * 40
REDIRECT_URI = "https://acme-sync.example/callback"


def basic_auth(client_id: str, secret: str = SECRET) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def query_of(location: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


class Pkce:
    def __init__(self):
        self.verifier = secrets.token_urlsafe(48)
        self.challenge = create_s256_code_challenge(self.verifier)


@pytest.fixture
def client_app(session, people):
    """Acme Sync: a confidential client asking for contacts (free) and audit logs (enterprise)."""
    app = make_app(session, "acme-sync", name="Acme Sync", vendor="Acme",
                   redirect_uris=[REDIRECT_URI], required_scopes=["contacts.read"],
                   optional_scopes=["contacts.write", "audit_logs.read"],
                   client_id="acme-sync-client", client_secret_hash=hash_secret(SECRET))
    session.commit()
    return app


class OAuthFlow:
    """Drives the authorization code flow the way a real client and a person would."""

    def __init__(self, app, browser, user):
        self.app = app
        self.browser = browser
        self.user = user
        self.pkce = Pkce()

    def params(self, **overrides) -> dict:
        params = {"response_type": "code", "client_id": self.app.client_id,
                  "redirect_uri": REDIRECT_URI, "scope": "contacts.read contacts.write",
                  "state": "st-123", "code_challenge": self.pkce.challenge,
                  "code_challenge_method": "S256"}
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}

    def authorize_url(self, **overrides) -> str:
        return "/oauth/authorize?" + urlencode(self.params(**overrides))

    def consent(self, decision: str = "connect", **overrides):
        return self.browser.post(self.authorize_url(**overrides), data={"decision": decision})

    def code(self, **overrides) -> str:
        response = self.consent(**overrides)
        assert response.status_code == 302, response.get_data(as_text=True)
        return query_of(response.headers["Location"])["code"]

    def exchange(self, code: str, verifier: str | None = "default", headers: dict | None = None,
                 **data):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        if verifier == "default":
            verifier = self.pkce.verifier
        if verifier is not None:
            form["code_verifier"] = verifier
        form.update(data)
        return self.browser.client.post("/oauth/token", data=form,
                                        headers=basic_auth(self.app.client_id) if headers is None
                                        else headers)

    def tokens(self, **overrides) -> dict:
        response = self.exchange(self.code(**overrides))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def refresh(self, refresh_token: str):
        return self.browser.client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                 "refresh_token": refresh_token},
                           headers=basic_auth(self.app.client_id))

    def introspect(self, token: str, headers: dict | None = None):
        return self.browser.client.post(
            "/oauth/introspect", data={"token": token},
            headers=basic_auth(self.app.client_id) if headers is None else headers)

    def revoke(self, token: str, hint: str | None = None, headers: dict | None = None):
        data = {"token": token}
        if hint:
            data["token_type_hint"] = hint
        return self.browser.client.post(
            "/oauth/revoke", data=data,
            headers=basic_auth(self.app.client_id) if headers is None else headers)


@pytest.fixture
def flow(client_app, browser, people):
    """The flow with Bob (an admin of Acme) logged in."""
    return OAuthFlow(client_app, browser(people["admin"]), people["admin"])


OTHER_SECRET = "other-" + "y" * 40


@pytest.fixture
def other_client(session, people):
    """Another registered confidential client, for cross-client checks."""
    app = make_app(session, "rival", name="Rival", redirect_uris=["https://rival.example/cb"],
                   client_id="rival-client", client_secret_hash=hash_secret(OTHER_SECRET))
    session.commit()
    return app
