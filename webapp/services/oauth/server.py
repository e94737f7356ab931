"""The authorization server: Authlib's Flask integration wired to our models.

One server per app, built by create_app and kept in `app.extensions["oauth_server"]`; it reaches
the database through the session it is given and takes its issuer from the app's settings.

Tokens: access tokens live an hour, refresh tokens rotate on every use and expire after
REFRESH_TOKEN_TTL days unused (each rotation starts the count again). Only the authorization code flow (with PKCE S256) and the refresh token flow exist: an
implicit or password request is refused (unsupported_response_type / unsupported_grant_type).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import Grant, Scope, Token
from webapp.services.links import ConsoleLinks
from webapp.services.oauth.clients import SECRET_AUTH_METHODS, OAuthClient, find_client
from webapp.services.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from webapp.services.oauth.flows import (AuthorizationCodeFlow, RefreshTokenFlow,
                                         StrictCodeChallenge)
from webapp.services.oauth.tokens import ACCESS_TOKEN_SECONDS, hash_secret
from webapp.services.resource_servers import ResourceServerClient, resource_server_client
from webapp.services.scopes import default_scope_catalogue
from webapp.services.usage.counting import UsageCounter


def _bearer_tokens() -> BearerTokenGenerator:
    return BearerTokenGenerator(
        access_token_generator=lambda **_: generate_token(42),
        refresh_token_generator=lambda **_: generate_token(48),
        expires_generator=ACCESS_TOKEN_SECONDS)


class ConsoleAuthorizationServer(AuthorizationServer):
    """`session` is the app's (scoped) database session; `config` its settings, read when a
    request needs the issuer, so that a changed PUBLIC_URL applies at once; `usage_counter` gives
    the UsageCounter introspections are counted on (None: not counted)."""

    def __init__(self, session: Session, config: Mapping,
                 usage_counter: Callable[[], UsageCounter | None] = lambda: None):
        super().__init__()
        self.session = session
        self.config = config
        self.usage_counter = usage_counter
        # Authlib's flows log every issued token in clear at DEBUG: keep them quiet even when
        # the rest of the deployment logs at DEBUG (secrets are never logged).
        logging.getLogger("authlib.oauth2.rfc6749.grants").setLevel(logging.INFO)
        self.register_token_generator("default", _bearer_tokens())
        self.register_grant(AuthorizationCodeFlow, [StrictCodeChallenge(required=True)])
        self.register_grant(RefreshTokenFlow)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)

    @property
    def issuer(self) -> str:
        return self.config["PUBLIC_URL"]

    def query_client(self, client_id: str | None) -> OAuthClient | ResourceServerClient | None:
        """An app installable through OAuth, or a resource server (a client of the
        introspection endpoint only)."""
        if not client_id:
            return None
        return (find_client(self.session, client_id)
                or resource_server_client(self.session, client_id))

    def save_token(self, token: dict, request) -> Token:
        """Stores a newly issued token pair, hashed, on the grant it came from."""
        code = request.authorization_code
        previous: Token | None = request.refresh_token
        if code is not None:
            grant_id, code_id = code.grant_id, code.id
        else:
            # A rotated token keeps its code, so that a replayed code also revokes its descendants.
            grant_id, code_id = previous.grant_id, previous.code_id
        grant = self.session.get(Grant, grant_id)
        now = utcnow()
        refresh = token.get("refresh_token")
        refresh_lifetime = timedelta(days=self.config["REFRESH_TOKEN_TTL"])
        row = Token(grant_id=grant_id, code_id=code_id, app_id=grant.app_id,
                    workspace_id=grant.workspace_id, user_id=grant.user_id,
                    access_token_hash=hash_secret(token["access_token"]),
                    refresh_token_hash=hash_secret(refresh) if refresh else None,
                    scope=token.get("scope", ""), issued_at=now, expires_in=token["expires_in"],
                    refresh_expires_at=now + refresh_lifetime if refresh else None)
        self.session.add(row)
        self.session.flush()
        return row


def with_iss(location: str, issuer: str) -> str:
    """Adds `iss` to an authorization response redirect (RFC 9207)."""
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("iss", issuer)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def server_metadata(session: Session, links: ConsoleLinks) -> dict:
    """RFC 8414 authorization server metadata."""
    scopes = list(session.scalars(select(Scope.name).order_by(Scope.name)))
    if not scopes:  # before anything was registered: the catalogue that registration will load
        scopes = sorted(entry["name"] for entry in default_scope_catalogue())
    return {
        "issuer": links.public_url,
        "authorization_endpoint": links.oauth_authorize(),
        "token_endpoint": links.oauth_token(),
        "revocation_endpoint": links.oauth_revoke(),
        "introspection_endpoint": links.oauth_introspect(),
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
