"""Refresh tokens that nobody used for REFRESH_TOKEN_TTL days end; an installation left with no
usable refresh token is Expired.

A refresh token rotates on every use, so the current token of a grant was issued at the last use:
its issue time is when it was last used. Ending it revokes it (the app is then told "revoked" when
it presents it, which is no replay, so nothing else is revoked). An installation that no longer
holds any usable refresh token writes one Expired event and opens one token alert, in the same
transaction; a new grant reconnects it and resolves that alert within its Reconnected event.
Functions flush but never commit: the caller owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import Grant, Installation, Token
from webapp.services import alerts
from webapp.services.events import record_event

TOKEN_ALERT_KEY = "refresh-token"
TOKEN_ALERT_TITLE = "Refresh token expired"


@dataclass
class ExpiryReport:
    tokens_ended: int = 0
    expired: list[int] = field(default_factory=list)  # installation ids that became Expired

    def summary(self) -> str:
        return (f"ended {self.tokens_ended} refresh token(s); "
                f"{len(self.expired)} installation(s) expired")


def _live_refresh_token(now: datetime, cutoff: datetime):
    """Conditions of a refresh token that can still be used."""
    return (Token.refresh_token_hash.is_not(None), Token.rotated_at.is_(None),
            Token.revoked_at.is_(None), Token.issued_at > cutoff,
            or_(Token.refresh_expires_at.is_(None), Token.refresh_expires_at > now))


def has_usable_refresh_token(session: Session, installation: Installation, now: datetime,
                             ttl_days: int) -> bool:
    cutoff = now - timedelta(days=ttl_days)
    return bool(session.scalar(select(exists().where(
        Token.grant_id == Grant.id, Grant.installation_id == installation.id,
        Grant.workspace_id == installation.workspace_id, Grant.revoked_at.is_(None),
        *_live_refresh_token(now, cutoff)))))


def expire_installation(session: Session, installation: Installation, now: datetime,
                        ttl_days: int) -> None:
    """Status expired, one Expired event (system) and the token alert it explains."""
    reason = f"No refresh token was used for {ttl_days} days"
    installation.status = "expired"
    alerts.open_quietly(session, installation, "token", TOKEN_ALERT_KEY, TOKEN_ALERT_TITLE,
                        f"{reason}; reconnect the app to issue new ones.", now)
    record_event(session, installation, "expired", None, {"reason": reason}, occurred_at=now)
    session.flush()


def expire_refresh_tokens(session: Session, now: datetime | None = None, ttl_days: int = 90
                          ) -> ExpiryReport:
    """Ends every refresh token unused for `ttl_days` (or past its own expiry) and expires the
    installations that are left without a usable one."""
    now = now or utcnow()
    cutoff = now - timedelta(days=ttl_days)
    report = ExpiryReport()
    stale = (Token.refresh_token_hash.is_not(None), Token.rotated_at.is_(None),
             Token.revoked_at.is_(None),
             or_(Token.issued_at <= cutoff, Token.refresh_expires_at <= now))
    grant_ids = sorted(set(session.scalars(
        select(Token.grant_id).join(Grant, Grant.id == Token.grant_id)
        .where(Grant.revoked_at.is_(None), *stale))))
    if not grant_ids:
        return report
    # Grants first, then tokens: the order a refresh takes its locks in, so that a refresh
    # racing with this either rotates first (and its new token lives) or sees the token ended.
    session.execute(select(Grant.id).where(Grant.id.in_(grant_ids)).order_by(Grant.id)
                    .with_for_update())
    ended = session.execute(
        update(Token).where(Token.grant_id.in_(grant_ids), *stale)
        .values(revoked_at=now).returning(Token.grant_id)
        .execution_options(synchronize_session="fetch")).scalars().all()
    report.tokens_ended = len(ended)
    installation_ids = sorted(set(session.scalars(
        select(Grant.installation_id).where(Grant.id.in_(set(ended))))))
    for installation_id in installation_ids:
        installation = session.scalar(
            select(Installation).where(Installation.id == installation_id)
            .with_for_update(of=Installation)
            .execution_options(populate_existing=True))
        if (installation.state != "installed" or installation.status in alerts.WORSE_THAN_ERROR
                or has_usable_refresh_token(session, installation, now, ttl_days)):
            continue
        expire_installation(session, installation, now, ttl_days)
        report.expired.append(installation.id)
    session.flush()
    return report
