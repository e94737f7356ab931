"""The authorization server: Authlib's Flask integration wired to our models.

Tokens: access tokens live an hour, refresh tokens rotate on every use and expire after 90 days
unused. Only the authorization code grant (with PKCE S256) and the refresh token grant exist: an
implicit or password request is refused (unsupported_response_type / unsupported_grant_type).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from flask import Flask, current_app
from sqlalchemy import select

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import Grant, Scope, Token
from webapp.services.oauth.clients import SECRET_AUTH_METHODS, query_client
from webapp.services.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from webapp.services.oauth.grants import (AuthorizationCodeGrant, RefreshTokenGrant,
                                          StrictCodeChallenge)
from webapp.services.oauth.tokens import hash_secret
from webapp.services.scopes import default_scope_catalogue

ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = timedelta(days=90)


def save_token(token: dict, request) -> Token:
    """Stores a newly issued token pair, hashed, on the grant it came from."""
    code = getattr(request, "authorization_code", None)
    previous: Token | None = getattr(request, "refresh_token", None)
    if code is not None:
        grant_id, code_id = code.grant_id, code.id
    else:
        # A rotated token keeps its code, so that a replayed code also revokes its descendants.
        grant_id, code_id = previous.grant_id, previous.code_id
    grant = db.session.get(Grant, grant_id)
    now = utcnow()
    refresh = token.get("refresh_token")
    row = Token(grant_id=grant_id, code_id=code_id, app_id=grant.app_id,
                workspace_id=grant.workspace_id, user_id=grant.user_id,
                access_token_hash=hash_secret(token["access_token"]),
                refresh_token_hash=hash_secret(refresh) if refresh else None,
                scope=token.get("scope", ""), issued_at=now, expires_in=token["expires_in"],
                refresh_expires_at=now + REFRESH_TOKEN_LIFETIME if refresh else None)
    db.session.add(row)
    db.session.flush()
    return row


class ConsoleAuthorizationServer(AuthorizationServer):
    @property
    def issuer(self) -> str:
        return current_app.config["PUBLIC_URL"]


authorization_server = ConsoleAuthorizationServer()


def init_oauth(app: Flask) -> None:
    # Authlib's grants log every issued token in clear at DEBUG: keep them quiet even when the
    # rest of the deployment logs at DEBUG (secrets are never logged).
    logging.getLogger("authlib.oauth2.rfc6749.grants").setLevel(logging.INFO)
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": ACCESS_TOKEN_LIFETIME,
                                                      "refresh_token": ACCESS_TOKEN_LIFETIME})
    server = authorization_server
    server.init_app(app, query_client=query_client, save_token=save_token)
    if not server._authorization_grants:  # the server is module-level; register once
        server.register_grant(AuthorizationCodeGrant, [StrictCodeChallenge(required=True)])
        server.register_grant(RefreshTokenGrant)
        server.register_endpoint(RevocationEndpoint)
        server.register_endpoint(IntrospectionEndpoint)


def with_iss(location: str, issuer: str) -> str:
    """Adds `iss` to an authorization response redirect (RFC 9207)."""
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("iss", issuer)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def server_metadata(public_url: str) -> dict:
    """RFC 8414 authorization server metadata."""
    scopes = list(db.session.scalars(select(Scope.name).order_by(Scope.name)))
    if not scopes:  # before anything was registered: the catalogue that registration will load
        scopes = sorted(entry["name"] for entry in default_scope_catalogue())
    return {
        "issuer": public_url,
        "authorization_endpoint": f"{public_url}/oauth/authorize",
        "token_endpoint": f"{public_url}/oauth/token",
        "revocation_endpoint": f"{public_url}/oauth/revoke",
        "introspection_endpoint": f"{public_url}/oauth/introspect",
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*SECRET_AUTH_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": list(SECRET_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(SECRET_AUTH_METHODS),
        "authorization_response_iss_parameter_supported": True,
    }
