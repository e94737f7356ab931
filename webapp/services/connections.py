"""Who connected an app, and where the browser goes to connect it (the app's install URL)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.models import App, Grant, Installation, User


@dataclass(frozen=True)
class Connection:
    """One user's grants in force on an installation, seen as one connection."""

    user: User
    connected_at: datetime
    scopes: list[str]
    grant_id: int


def user_connections(session: Session, installation: Installation) -> list[Connection]:
    """Users with a grant in force, first connected first; a user who consented again (for more
    scopes) holds several grants: their connection dates from the first and has every scope."""
    grants = session.scalars(
        select(Grant).options(joinedload(Grant.user))
        .where(Grant.workspace_id == installation.workspace_id,
               Grant.installation_id == installation.id, Grant.revoked_at.is_(None))
        .order_by(Grant.created_at, Grant.id))
    by_user: dict[int, Connection] = {}
    for grant in grants:
        known = by_user.get(grant.user_id)
        if known is None:
            by_user[grant.user_id] = Connection(grant.user, grant.created_at, list(grant.scopes),
                                                grant.id)
        else:
            scopes = list(dict.fromkeys([*known.scopes, *grant.scopes]))
            by_user[grant.user_id] = Connection(known.user, known.connected_at, scopes,
                                                known.grant_id)
    return list(by_user.values())


def user_has_grant(session: Session, workspace_id: int, app_id: int, user_id: int) -> bool:
    """Whether the user holds a grant in force for the app in their workspace."""
    return session.scalar(select(Grant.id).where(
        Grant.workspace_id == workspace_id, Grant.app_id == app_id, Grant.user_id == user_id,
        Grant.revoked_at.is_(None)).limit(1)) is not None


def connected_app_ids(session: Session, workspace_id: int, user_id: int) -> set[int]:
    """The apps for which the user holds a grant in force in their workspace (one query)."""
    return set(session.scalars(select(Grant.app_id).where(
        Grant.workspace_id == workspace_id, Grant.user_id == user_id,
        Grant.revoked_at.is_(None)).distinct()))


def install_link(app: App, workspace_slug: str) -> str | None:
    """The app's own install page with ?workspace=SLUG, so the app knows which workspace to ask
    consent for; None when the app has no install page."""
    if not app.install_url:
        return None
    parts = urlsplit(app.install_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "workspace"]
    query.append(("workspace", workspace_slug))
    return urlunsplit(parts._replace(query=urlencode(query)))
