"""Authorization server metadata (RFC 8414)."""
from __future__ import annotations

from sqlalchemy import select

from webapp.models import Scope


def test_metadata_describes_the_hardened_server(app, session, people):
    with app.app_context():  # anonymous: programs read it without logging in
        response = app.test_client().get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.get_json()
    assert body["issuer"] == "http://localhost"
    assert body["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert body["token_endpoint"] == "http://localhost/oauth/token"
    assert body["revocation_endpoint"] == "http://localhost/oauth/revoke"
    assert body["introspection_endpoint"] == "http://localhost/oauth/introspect"
    assert body["response_types_supported"] == ["code"]
    assert body["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        body["token_endpoint_auth_methods_supported"])
    assert body["authorization_response_iss_parameter_supported"] is True
    catalogue = set(session.scalars(select(Scope.name)))
    assert len(catalogue) >= 20
    assert set(body["scopes_supported"]) == catalogue
    assert {"contacts.read", "contacts.write", "files.read", "automation.write",
            "audit_logs.read"} <= set(body["scopes_supported"])
