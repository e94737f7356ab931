"""Resource servers: the deployment's APIs that accept the console's access tokens.

A resource server authenticates at the introspection endpoint only, with a client id and secret
of its own (the secret shown once, stored hashed like apps' secrets). It may introspect any token,
and each introspection of an active access token it makes is one API call of the token's
installation.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import ResourceServer
from webapp.services.errors import Conflict, InvalidInput
from webapp.services.oauth.clients import SECRET_AUTH_METHODS
from webapp.services.oauth.tokens import hash_secret, secret_matches

NAME_LIMIT = 120
CLIENT_ID_PREFIX = "rs_"


@dataclass
class ResourceServerRegistration:
    server: ResourceServer
    created: bool
    client_secret: str

    def as_json(self) -> dict:
        return {"name": self.server.name, "client_id": self.server.client_id,
                "client_secret": self.client_secret}


def _valid_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput("The resource server needs a name.", field="name")
    if len(cleaned) > NAME_LIMIT:
        raise InvalidInput(f"The name may be at most {NAME_LIMIT} characters.", field="name")
    if any(not char.isprintable() for char in cleaned):
        raise InvalidInput("The name may hold printable characters only.", field="name")
    return cleaned


def register_resource_server(session: Session, name: str, rotate_secret: bool = False
                             ) -> ResourceServerRegistration:
    """Registers a resource server under a new name, or with `rotate_secret` issues a new secret
    for an existing one (its old secret stops working, its client id stays). Registering a taken
    name without `rotate_secret` is refused, so a typo cannot silently cut off a running API.
    The caller commits."""
    name = _valid_name(name)
    server = session.scalar(select(ResourceServer).where(ResourceServer.name == name))
    created = server is None
    if not created and not rotate_secret:
        raise Conflict(f"A resource server named {name!r} is already registered; "
                       "use --rotate-secret to issue it a new secret.", field="name")
    secret = secrets.token_urlsafe(32)
    if created:
        server = ResourceServer(name=name, client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(18),
                                client_secret_hash=hash_secret(secret))
        session.add(server)
    else:
        server.client_secret_hash = hash_secret(secret)
        server.secret_rotated_at = utcnow()
    session.flush()
    return ResourceServerRegistration(server=server, created=created, client_secret=secret)


class ResourceServerClient:
    """A resource server seen as an OAuth client by Authlib: it can authenticate at the
    introspection endpoint and nowhere else (no redirect URI, no grant, no revocation)."""

    is_resource_server = True
    app_id = None  # owns no token, so Token.check_client() is false for every token

    def __init__(self, server: ResourceServer):
        self.resource_server_id = server.id
        self.name = server.name
        self.client_id = server.client_id
        self._secret_hash = server.client_secret_hash

    def __repr__(self) -> str:
        return f"<ResourceServerClient {self.name}>"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def get_allowed_scope(self, scope: str | None) -> None:
        return None

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self._secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "introspection" and method in SECRET_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return False


def resource_server_client(session: Session, client_id: str) -> ResourceServerClient | None:
    server = session.scalar(select(ResourceServer).where(ResourceServer.client_id == client_id))
    return None if server is None else ResourceServerClient(server)


def is_resource_server(client) -> bool:
    return getattr(client, "is_resource_server", False)
