"""Authlib's authorization code and refresh token flows, hardened to RFC 9700: PKCE S256 for
everyone, single-use codes, rotating refresh tokens whose reuse revokes the grant.

Authlib calls its flow classes "grants"; here a grant is only ever a consent record
(webapp.models.Grant), so the flows are named for what they are. They reach the database
through their server's session (see server.py).
"""
from __future__ import annotations

import time
from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import select, update

from webapp.database import utcnow
from webapp.models import AuthorizationCode, Grant, Token, User
from webapp.services.lifecycle import revoke_grant
from webapp.services.oauth.tokens import hash_secret

CODE_LIFETIME = timedelta(seconds=60)
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class StrictCodeChallenge(CodeChallenge):
    """PKCE with S256 only, required from every client, public or confidential."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, flow, redirect_uri):
        data = flow.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be S256.")
        super().validate_code_challenge(flow, redirect_uri)

    def validate_code_verifier(self, flow, result):
        if not flow.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(flow, result)


class AuthorizationCodeFlow(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    #: The consent the code is issued for: set by issue_code(), read when Authlib saves the code.
    grant: Grant | None = None

    @property
    def session(self):
        return self.server.session

    def issue_code(self, grant: Grant):
        """The redirect back to the app, carrying a new code for the consent just recorded."""
        self.grant = grant
        return self.server.create_authorization_response(grant_user=grant.user, grant=self)

    def save_authorization_code(self, code: str, request) -> AuthorizationCode:
        if self.grant is None:
            raise RuntimeError("A code is issued only for a recorded consent (use issue_code).")
        grant, data = self.grant, request.payload.data
        item = AuthorizationCode(
            code_hash=hash_secret(code), grant_id=grant.id, app_id=grant.app_id,
            user_id=grant.user_id, redirect_uri=request.payload.redirect_uri,
            scope=" ".join(grant.scopes), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()), expires_at=utcnow() + CODE_LIFETIME)
        self.session.add(item)
        self.session.flush()
        return item

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        session = self.session
        item = session.scalar(select(AuthorizationCode).where(
            AuthorizationCode.code_hash == hash_secret(code)))
        if item is None or item.app_id != client.app_id:
            return None
        # Single use, claimed atomically: of two exchanges of one code only one can win.
        claimed = session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == item.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            # A replayed code: revoke what it issued (RFC 6749 4.1.2, RFC 9700 4.5).
            session.execute(
                update(Token).where(Token.code_id == item.id, Token.revoked_at.is_(None))
                .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
            raise InvalidGrantError("The authorization code has already been used.")
        if item.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired.")
        grant = session.get(Grant, item.grant_id)
        if grant is None or grant.revoked_at is not None:
            raise InvalidGrantError("The authorization behind this code was revoked.")
        return item

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Kept (marked used) so that a replay can be recognised and its tokens revoked.
        return None

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        return self.session.get(User, authorization_code.user_id)


class RefreshTokenFlow(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def session(self):
        return self.server.session

    def authenticate_refresh_token(self, refresh_token: str) -> Token:
        """The presented token, rotated: claimed for this one refresh, or its reuse detected.

        Authlib has authenticated the client before asking; another client's token is unknown
        to it and changes nothing.
        """
        session = self.session
        token = session.scalar(select(Token).where(
            Token.refresh_token_hash == hash_secret(refresh_token)))
        if token is None or not token.check_client(self.client):
            raise InvalidGrantError("Unknown refresh token.")
        # Refreshes of one grant take its row lock first (PostgreSQL; SQLite serialises writers
        # anyway): every path then locks grant before tokens, so concurrent refreshes queue
        # instead of deadlocking, and each sees the committed state of the one before.
        session.execute(select(Grant.id).where(Grant.id == token.grant_id).with_for_update())
        token = session.scalar(select(Token).where(Token.id == token.id)
                               .execution_options(populate_existing=True))
        session.scalar(select(Grant).where(Grant.id == token.grant_id)
                       .execution_options(populate_existing=True))
        if token.rotated_at is not None:
            self._reuse_detected(token)
        if token.is_revoked():
            raise InvalidGrantError("The refresh token has been revoked.")
        if token.refresh_expires_at is not None and token.refresh_expires_at <= utcnow():
            raise InvalidGrantError("The refresh token has expired.")
        # Rotation claimed by one conditional UPDATE: with concurrent refreshes exactly one
        # request sees rowcount 1; the others presented a token that is no longer current.
        claimed = session.execute(
            update(Token).where(Token.id == token.id, Token.rotated_at.is_(None),
                                Token.revoked_at.is_(None))
            .values(rotated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            self._reuse_detected(token)
        return token

    def _reuse_detected(self, token: Token) -> None:
        """A refresh token presented after it was rotated: it may be stolen, so the whole grant
        goes (RFC 9700 4.14.2), and the installation shows Disconnected in the log."""
        revoke_grant(self.session, token.grant_id, reason="refresh_token_reuse")
        raise InvalidGrantError("The refresh token was already used; the authorization is revoked.")

    def authenticate_user(self, refresh_token: Token) -> User | None:
        return self.session.get(User, refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        # Already marked rotated when the rotation was claimed.
        return None
