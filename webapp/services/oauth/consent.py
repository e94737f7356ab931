"""What the consent page shows: scopes grouped Required / Optional, plan marks, new scopes."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import App, Grant, Installation, User, Workspace
from webapp.services.errors import DomainError
from webapp.services.installations import ScopeView, load_scope_catalogue_for, scope_view
from webapp.services.lifecycle import check_may_consent, grantable_scopes


@dataclass
class ConsentView:
    app: App
    workspace: Workspace
    required: list[ScopeView] = field(default_factory=list)
    optional: list[ScopeView] = field(default_factory=list)
    blocking: str | None = None
    reauthentication: bool = False


def _already_granted(session: Session, workspace: Workspace, app: App,
                     user: User) -> list[str] | None:
    """Scopes granted so far: the installation's for shared apps, the user's own for user-level
    apps. None when there is nothing in force to compare with."""
    installation = session.scalar(select(Installation).where(
        Installation.workspace_id == workspace.id, Installation.app_id == app.id))
    if installation is None or installation.state != "installed":
        return None
    query = select(Grant.scopes).where(Grant.installation_id == installation.id,
                                       Grant.workspace_id == workspace.id,
                                       Grant.revoked_at.is_(None))
    if app.install_level == "user":
        query = query.where(Grant.user_id == user.id)
    grants = list(session.scalars(query))
    if not grants:
        return None
    return list(dict.fromkeys(name for scopes in grants for name in scopes))


def consent_view(session: Session, workspace: Workspace, app: App, user: User,
                 requested_scopes: list[str]) -> ConsentView:
    view = ConsentView(app=app, workspace=workspace)
    try:
        check_may_consent(workspace, app, user)
        grantable_scopes(session, workspace, app, requested_scopes)
    except DomainError as error:
        view.blocking = error.message
    granted = _already_granted(session, workspace, app, user)
    view.reauthentication = granted is not None
    catalogue = load_scope_catalogue_for(session, app.all_scopes)
    required = set(app.required_scopes) | set(app.conditional_scopes)
    shown = list(dict.fromkeys([*app.required_scopes, *app.conditional_scopes, *requested_scopes]))
    for name in shown:
        item = scope_view(name, catalogue, workspace.plan,
                          new=granted is not None and name not in granted)
        (view.required if name in required else view.optional).append(item)
    return view
