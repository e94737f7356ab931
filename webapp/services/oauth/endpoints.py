"""Token revocation (RFC 7009) and introspection (RFC 7662), client-authenticated."""
from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from webapp.database import utcnow
from webapp.models import Token, User, Workspace
from webapp.services.lifecycle import revoke_grant
from webapp.services.oauth.tokens import find_token_by_any, refresh_token_is_active, token_is_active
from webapp.services.resource_servers import is_resource_server
from webapp.services.usage.counting import count_introspection

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class PresentedToken:
    """A token row and which of its two secrets the app presented."""

    token: Token
    kind: str  # "access_token" or "refresh_token"


def _presented(session, request) -> PresentedToken | None:
    token, kind = find_token_by_any(session, request.form["token"],
                                    request.form.get("token_type_hint"))
    return None if token is None else PresentedToken(token, kind)


class RevocationEndpoint(_RevocationEndpoint):
    """Revoking an access token ends that token; revoking a refresh token is the app
    disconnecting itself, which revokes the installation's grants and shows in the log.

    Another client's token is refused (400 invalid_grant, RFC 7009 2.1) and stays active; an
    unknown token answers 200, as the RFC asks.
    """

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_token(self, request, client) -> PresentedToken | None:
        self.check_params(request, client)
        presented = _presented(self.server.session, request)
        if presented is not None and not presented.token.check_client(client):
            raise InvalidGrantError("The token was not issued to this client.")
        return presented

    def revoke_token(self, presented: PresentedToken, request) -> None:
        token = presented.token
        if presented.kind == "refresh_token":
            if refresh_token_is_active(token):
                revoke_grant(self.server.session, token.grant_id, reason="revoked_by_app")
            token.revoked_at = token.revoked_at or utcnow()
        else:
            token.access_revoked_at = token.access_revoked_at or utcnow()


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """An app may introspect the tokens issued to it; any other token is simply inactive.
    A resource server may introspect any token, and each active access token it introspects is
    one API call of the token's installation."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_token(self, request, client) -> PresentedToken | None:
        self.check_params(request, client)
        presented = _presented(self.server.session, request)
        if presented is None or not self.check_permission(presented.token, client, request):
            return None
        if presented.kind == "refresh_token":
            active = refresh_token_is_active(presented.token)
        else:
            active = token_is_active(presented.token)
        if active and presented.kind == "access_token" and is_resource_server(client):
            count_introspection(self.server.usage_counter(), presented.token,
                                request.form.get("scope"), utcnow())
        return presented if active else None

    def create_introspection_payload(self, presented: PresentedToken | None) -> dict:
        if presented is None:
            return {"active": False}
        token, kind = presented.token, presented.kind
        session = self.server.session
        workspace = session.get(Workspace, token.workspace_id)
        user = session.get(User, token.user_id)
        expires = token.refresh_expires_at if kind == "refresh_token" else token.expires_at
        payload = {
            "active": True,
            "scope": token.scope,
            "client_id": token.app.client_id,
            "token_type": "Bearer" if kind == "access_token" else "refresh_token",
            "iat": int(token.issued_at.timestamp()),
            "sub": str(token.user_id),
            "workspace": workspace.slug,
            "user": user.email,
            "app": token.app.slug,
            "iss": self.server.issuer,
        }
        if expires is not None:
            payload["exp"] = int(expires.timestamp())
        return payload

    def check_permission(self, token, client, request) -> bool:
        return is_resource_server(client) or token.check_client(client)
