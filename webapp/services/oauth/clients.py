"""A registered app seen as an OAuth client (Authlib's ClientMixin), without touching the model."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import App
from webapp.models.app import INSTALL_LEVELS
from webapp.services.oauth.tokens import secret_matches

GRANT_TYPES = ("authorization_code", "refresh_token")
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient:
    def __init__(self, app: App):
        self.app = app
        self.app_id = app.id
        self.client_id = app.client_id

    def __repr__(self) -> str:
        return f"<OAuthClient {self.app.slug}>"

    @property
    def confidential(self) -> bool:
        return bool(self.app.client_secret_hash)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # No default: every authorization request must name its redirect URI (RFC 9700 2.1).
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison, no normalisation (RFC 9700 4.1.3).
        return redirect_uri in (self.app.redirect_uris or [])

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes when the app asks for all of them; None (invalid_scope) otherwise.

        An absent scope means every scope the app's current version asks for.
        """
        asked = self.app.all_scopes
        if not scope:
            return " ".join(asked)
        requested = scope.split()
        if any(name not in asked for name in requested):
            return None
        return " ".join(dict.fromkeys(requested))

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self.app.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.confidential:
            return method in SECRET_AUTH_METHODS
        # A public client may use the token endpoint (PKCE protects it), but revocation and
        # introspection answer only to clients that can prove who they are.
        return method == "none" and endpoint == "token"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


def find_client(session: Session, client_id: str | None) -> OAuthClient | None:
    """Only apps that can be installed through OAuth are clients: an install level and at least
    one registered redirect URI."""
    if not client_id:
        return None
    app = session.scalar(select(App).where(App.client_id == client_id))
    if app is None or app.install_level not in INSTALL_LEVELS or not app.redirect_uris:
        return None
    return OAuthClient(app)
