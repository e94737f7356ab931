"""Hashing and lookup of OAuth secrets; revocation in bulk.

Codes, tokens and client secrets are high-entropy random strings, so a fast hash (SHA-256) is
the right tool: nothing to brute-force, and lookups stay an index hit on the hash.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import Grant, Token

# Access tokens live an hour; refresh tokens REFRESH_TOKEN_TTL days from their last rotation.
ACCESS_TOKEN_SECONDS = 3600


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def secret_matches(raw: str | None, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    if not raw or not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(raw), stored_hash)


def token_is_active(token: Token, grant: Grant | None = None) -> bool:
    grant = grant or token.grant
    if token.revoked_at or token.access_revoked_at or grant.revoked_at:
        return False
    return token.expires_at > utcnow()


def find_active_access_token(session: Session, raw_token: str | None) -> Token | None:
    """The token whose access token is `raw_token`, if it is neither revoked nor expired and
    its grant is still in force."""
    if not raw_token:
        return None
    row = session.execute(
        select(Token, Grant).join(Grant, Token.grant_id == Grant.id)
        .where(Token.access_token_hash == hash_secret(raw_token))).first()
    if row is None:
        return None
    token, grant = row
    return token if token_is_active(token, grant) else None


def find_token_by_any(session: Session, raw_token: str, hint: str | None = None
                      ) -> tuple[Token, str] | tuple[None, None]:
    """A token row by its access or refresh token (RFC 7009/7662 lookups), whatever its state,
    with which of the two was presented ("access_token" or "refresh_token")."""
    digest = hash_secret(raw_token)
    kinds = [("access_token", Token.access_token_hash), ("refresh_token", Token.refresh_token_hash)]
    if hint == "refresh_token":
        kinds.reverse()
    for kind, column in kinds:
        token = session.scalar(select(Token).where(column == digest))
        if token is not None:
            return token, kind
    return None, None


def refresh_token_is_active(token: Token) -> bool:
    if token.rotated_at is not None or token.is_revoked():
        return False
    return token.refresh_expires_at is None or token.refresh_expires_at > utcnow()


def revoke_grant_tokens(session: Session, grant_ids: list[int]) -> int:
    """Revokes every live token of the given grants; returns how many were revoked."""
    if not grant_ids:
        return 0
    result = session.execute(
        update(Token).where(Token.grant_id.in_(grant_ids), Token.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


@dataclass(frozen=True)
class IssuedTokens:
    """A new token pair in clear, for the client it is handed to; only hashes are stored."""

    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    row: Token


def issue_tokens(session: Session, grant: Grant, refresh_lifetime: timedelta,
                 now: datetime | None = None, code_id: int | None = None,
                 expires_in: int = ACCESS_TOKEN_SECONDS) -> IssuedTokens:
    """Issues a token pair on `grant`, as a code exchange does, for callers that hand the tokens
    to the app themselves (the demo seed, playing its apps' part). `refresh_lifetime` is
    REFRESH_TOKEN_TTL."""
    now = now or utcnow()
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    scope = " ".join(grant.scopes)
    row = Token(grant_id=grant.id, code_id=code_id, app_id=grant.app_id,
                workspace_id=grant.workspace_id, user_id=grant.user_id,
                access_token_hash=hash_secret(access), refresh_token_hash=hash_secret(refresh),
                scope=scope, issued_at=now, expires_in=expires_in,
                refresh_expires_at=now + refresh_lifetime)
    session.add(row)
    session.flush()
    return IssuedTokens(access, refresh, expires_in, scope, row)


def rotate_tokens(session: Session, token: Token, refresh_lifetime: timedelta,
                  now: datetime | None = None) -> IssuedTokens:
    """A refresh with `token`: it is marked rotated and a new pair replaces it, keeping its code
    (so that a replayed code still revokes its descendants)."""
    now = now or utcnow()
    token.rotated_at = now
    return issue_tokens(session, token.grant, refresh_lifetime, now, code_id=token.code_id,
                        expires_in=token.expires_in)
