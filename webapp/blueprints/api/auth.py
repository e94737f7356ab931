"""Bearer-token authentication of the API (RFC 6750); refusals are answered as problem+json."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from sqlalchemy import select

from webapp.errors_http import BearerChallenge
from webapp.extensions import db
from webapp.models import Installation
from webapp.services.errors import Forbidden
from webapp.services.oauth.tokens import find_active_access_token

REALM = "connected-apps"


def _unauthorized(description: str, invalid: bool) -> BearerChallenge:
    challenge = f'Bearer realm="{REALM}"'
    if invalid:  # RFC 6750 3.1: no error code when the request carried no token at all
        challenge += f', error="invalid_token", error_description="{description}"'
    return BearerChallenge(description, challenge)


def _bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def app_token_required(install_level: str | None):
    """The view runs with g.installation: the installation the presented token was issued for.

    Only tokens of apps of `install_level` are accepted (Forbidden otherwise); None accepts any.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            raw = _bearer_token()
            if raw is None:
                raise _unauthorized("Send an access token: Authorization: Bearer <token>.",
                                    invalid=False)
            token = find_active_access_token(db.session, raw)
            installation = None
            if token is not None:
                installation = db.session.scalar(select(Installation).where(
                    Installation.id == token.grant.installation_id,
                    Installation.workspace_id == token.workspace_id,
                    Installation.app_id == token.app_id,
                    Installation.state == "installed"))
            if installation is None:
                raise _unauthorized("The access token is invalid, expired or revoked.",
                                    invalid=True)
            if install_level is not None and installation.app.install_level != install_level:
                raise Forbidden("Only multi-account apps report external accounts.")
            g.installation = installation
            return view(*args, **kwargs)

        return wrapper

    return decorator
