"""The lifecycle of an installation: consent, re-authentication, disconnect, uninstall, sync.

Every change of state or status writes exactly one event in the same transaction; a step that
changes nothing writes nothing. Functions flush but never commit: the caller owns the transaction.

Decisions worth knowing:
- An installation's `granted_scopes` is the union of the scopes of its grants in force; after a
  disconnect or uninstall it keeps the last authorized scopes (so its page still tells what the app
  had) until a new grant replaces them.
- A reinstall starts a new life: `installed_at`/`installed_by` become the reinstall's (the log keeps
  the earlier installs). For user-level apps they stay those of the first grant of that life.
- Who may consent is the policy's (services/policy.py): account-level and multi-account apps act
  for the whole workspace, so only admins connect them; each user connects a user-level app.
- A new grant while disconnected or expired resolves the token alert as part of its Reconnected
  event (one change, one event); the status is then error if other alerts are still open.
  Uninstalling resolves every open alert within its Uninstalled event.
- Required and conditionally required scopes are always part of a grant; optional scopes are
  granted when the app asks for them and the plan covers them, otherwise silently left out (they
  then show under "Requires upgrade").
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import App, Grant, HealthCheck, Installation, User, Workspace
from webapp.models.workspace import plan_rank
from webapp.services import alerts, policy
from webapp.services.errors import Conflict
from webapp.services.events import record_event
from webapp.services.installations import (compute_flags, load_scope_catalogue_for, plan_covers,
                                           scope_groups)
from webapp.services.oauth.tokens import revoke_grant_tokens


class LifecycleError(Conflict):
    """A lifecycle step that cannot happen in the installation's present state (or for this
    consent); the message is meant for the user."""


def _active_grants(session: Session, installation: Installation, user: User | None = None
                   ) -> list[Grant]:
    query = select(Grant).where(Grant.installation_id == installation.id,
                                Grant.workspace_id == installation.workspace_id,
                                Grant.revoked_at.is_(None)).order_by(Grant.id)
    if user is not None:
        query = query.where(Grant.user_id == user.id)
    return list(session.scalars(query))


def _revoke(session: Session, grants: list[Grant], reason: str, now: datetime) -> None:
    for grant in grants:
        grant.revoked_at = now
        grant.revoked_reason = reason
    revoke_grant_tokens(session, [grant.id for grant in grants])


def _union(*scope_lists: list[str]) -> list[str]:
    return list(dict.fromkeys(name for scopes in scope_lists for name in scopes))


def _workspace(session: Session, installation: Installation) -> Workspace:
    return session.get(Workspace, installation.workspace_id)


def refresh_flags(session: Session, installation: Installation, workspace: Workspace | None = None
                  ) -> bool:
    """Recomputes update/upgrade flags from the app's current version; True when one changed."""
    workspace = workspace or _workspace(session, installation)
    app = installation.app
    catalogue = load_scope_catalogue_for(session, app.all_scopes + installation.granted_scopes)
    flags = compute_flags(app, installation.granted_scopes, workspace.plan, catalogue)
    changed = (installation.update_available, installation.upgrade_available) != (
        flags.update_available, flags.upgrade_available)
    installation.update_available = flags.update_available
    installation.upgrade_available = flags.upgrade_available
    return changed


def grantable_scopes(session: Session, workspace: Workspace, app: App,
                     requested_scopes: list[str]) -> list[str]:
    """The scopes a consent would grant, or LifecycleError when the request cannot be granted.

    Raises for a scope the app does not ask for, and for a required or conditionally required
    scope that the workspace's plan does not cover (naming the plan needed).
    """
    asked = app.all_scopes
    unknown = [name for name in requested_scopes if name not in asked]
    if unknown:
        raise LifecycleError(f"{app.name} does not ask for the scope {', '.join(unknown)}.")
    catalogue = load_scope_catalogue_for(session, asked)
    required = _union(app.required_scopes, app.conditional_scopes)
    blocked = [name for name in required if name in catalogue
               and not plan_covers(workspace.plan, catalogue[name].min_plan)]
    if blocked:
        needed = max((catalogue[name].min_plan for name in blocked), key=plan_rank)
        raise LifecycleError(
            f"{app.name} needs the {needed.title()} plan for {', '.join(blocked)}.")
    def covered(name: str) -> bool:
        return name not in catalogue or plan_covers(workspace.plan, catalogue[name].min_plan)

    optional = [name for name in (requested_scopes or asked)
                if name not in required and covered(name)]
    return _union(required, optional)


def check_may_consent(workspace: Workspace, app: App, user: User) -> None:
    """Raises Forbidden unless the policy lets the user consent (see policy.consent_actions)."""
    policy.consent_actions(workspace, app, user).require(policy.Action.CONSENT)


def consent(session: Session, workspace: Workspace, app: App, user: User,
            requested_scopes: list[str], now: datetime | None = None) -> Grant:
    """Records a user's consent: a new grant, and the installation's change with one event.

    Who may consent is the caller's policy (see check_may_consent); this only insists that the
    user belongs to the workspace."""
    if user.workspace_id != workspace.id:
        raise LifecycleError("You can only connect apps to your own workspace.")
    scopes = grantable_scopes(session, workspace, app, list(requested_scopes))
    now = now or utcnow()
    installation = session.scalar(select(Installation).where(
        Installation.workspace_id == workspace.id, Installation.app_id == app.id))
    user_level = app.install_level == "user"
    activity: str | None
    details: dict = {}
    if installation is None:
        installation = Installation(
            workspace_id=workspace.id, app_id=app.id, state="installed", status="connected",
            installed_version=app.version, granted_scopes=[], installed_at=now,
            installed_by_id=user.id,
            sync_values={s["key"]: bool(s.get("default", False)) for s in app.sync_settings or []})
        installation.app = app
        session.add(installation)
        session.flush()
        activity = "installed"
    elif installation.state == "uninstalled":
        activity = "reinstalled"
        installation.state = "installed"
        installation.status = "connected"
        installation.uninstalled_at = None
        installation.installed_at = now
        installation.installed_by_id = user.id
    elif installation.status in ("disconnected", "expired"):
        activity = "reconnected"
        installation.status = "connected"
        resolved = alerts.resolve_quietly(session, installation, "token", now)
        if resolved:
            details = {"resolved_alerts": len(resolved)}
        alerts.settle_status(session, installation)
    else:
        already = _active_grants(session, installation, user) if user_level else None
        new_scopes = [name for name in scopes if name not in installation.granted_scopes]
        if user_level and not already:
            activity, details = "installed", {"user_grant": True}
        elif new_scopes:
            activity, details = "reauthenticated", {"scopes": new_scopes}
        else:
            activity = None

    grant = Grant(workspace_id=workspace.id, installation_id=installation.id, app_id=app.id,
                  user_id=user.id, scopes=scopes, created_at=now)
    session.add(grant)
    session.flush()
    installation.granted_scopes = _union(*(g.scopes for g in _active_grants(session, installation)))
    installation.installed_version = app.version
    refresh_flags(session, installation, workspace)
    if user_level and activity in ("reinstalled", "reconnected"):
        details = {**details, "user_grant": True}
    if activity is not None:
        record_event(session, installation, activity, user.id, details or None, occurred_at=now)
    session.flush()
    return grant


def uninstall(session: Session, installation: Installation, actor: User | None,
              now: datetime | None = None) -> None:
    """Revokes every grant and token of the installation; state becomes uninstalled."""
    if installation.state == "uninstalled":
        raise LifecycleError(f"{installation.app.name} is not installed.")
    now = now or utcnow()
    _revoke(session, _active_grants(session, installation), "uninstalled", now)
    installation.state = "uninstalled"
    installation.uninstalled_at = now
    resolved = alerts.resolve_quietly(session, installation, None, now)
    session.execute(delete(HealthCheck).where(HealthCheck.installation_id == installation.id))
    record_event(session, installation, "uninstalled", actor.id if actor else None,
                 {"resolved_alerts": len(resolved)} if resolved else None, occurred_at=now)
    session.flush()


def disconnect(session: Session, installation: Installation, actor: User | None,
               reason: str, now: datetime | None = None) -> None:
    """Revokes the installation's grants and tokens; status disconnected.

    `actor` None means the app itself (it revoked its refresh token, or presented a stale one).
    """
    if installation.state != "installed":
        raise LifecycleError(f"{installation.app.name} is not installed.")
    if installation.status == "disconnected":
        raise LifecycleError(f"{installation.app.name} is already disconnected.")
    now = now or utcnow()
    _revoke(session, _active_grants(session, installation), reason, now)
    installation.status = "disconnected"
    record_event(session, installation, "disconnected", actor.id if actor else None,
                 {"reason": reason}, occurred_at=now, actor_app=actor is None)
    session.flush()


def disconnect_user_grant(session: Session, installation: Installation, user: User,
                          now: datetime | None = None) -> None:
    """A user of a user-level app withdraws their own grant; with none left, it is disconnected."""
    if installation.workspace_id != user.workspace_id:
        raise LifecycleError("This app is not connected to your workspace.")
    grants = _active_grants(session, installation, user)
    if installation.state != "installed" or not grants:
        raise LifecycleError(f"You have not connected {installation.app.name}.")
    now = now or utcnow()
    _revoke(session, grants, "user_disconnected", now)
    remaining = _active_grants(session, installation)
    if remaining:
        installation.granted_scopes = _union(*(g.scopes for g in remaining))
        refresh_flags(session, installation)
    else:
        installation.status = "disconnected"
    record_event(session, installation, "disconnected", user.id, {"user_grant": True},
                 occurred_at=now)
    session.flush()


def set_sync(session: Session, installation: Installation, key: str, enabled: bool,
             actor: User | None, now: datetime | None = None) -> None:
    setting = next((s for s in installation.app.sync_settings or [] if s.get("key") == key), None)
    if setting is None:
        raise LifecycleError(f"{installation.app.name} has no sync setting “{key}”.")
    if installation.state != "installed":
        raise LifecycleError(f"{installation.app.name} is not installed.")
    values = dict(installation.sync_values or {})
    current = bool(values.get(key, setting.get("default", False)))
    if current == bool(enabled):
        return
    values[key] = bool(enabled)
    installation.sync_values = values  # a new dict, so the JSON column sees the change
    record_event(session, installation, "sync_on" if enabled else "sync_off",
                 actor.id if actor else None, {"key": key, "label": setting.get("label", key)},
                 occurred_at=now)
    session.flush()


def refresh_flags_for_app(session: Session, app: App) -> int:
    """After a new version is registered: recompute the flags of every installed installation."""
    installations = session.scalars(select(Installation).where(
        Installation.app_id == app.id, Installation.state == "installed")).unique()
    changed = 0
    for installation in installations:
        changed += refresh_flags(session, installation)
    session.flush()
    return changed


def scopes_for_reauthentication(session: Session, installation: Installation) -> list[str]:
    """Scopes the app asks for, the plan allows, and this installation has not granted."""
    app = installation.app
    catalogue = load_scope_catalogue_for(session, app.all_scopes + installation.granted_scopes)
    groups = scope_groups(app, installation.granted_scopes, _workspace(session, installation).plan,
                          catalogue)
    return [view.name for view in groups.available_after_reauth]


def revoke_grant(session: Session, grant_id: int, reason: str, now: datetime | None = None) -> bool:
    """The app ends one grant (it revoked its refresh token, or replayed a spent one): the grant
    and all its tokens are revoked and the log shows Disconnected, with no actor.

    The grant is claimed by a conditional UPDATE, so concurrent calls log it once. An account or
    multi-account installation is disconnected; for a user-level app only that user's grant goes
    (the installation is disconnected when it was the last one). Returns True for the call that
    revoked it.
    """
    now = now or utcnow()
    claimed = session.execute(
        update(Grant).where(Grant.id == grant_id, Grant.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    revoke_grant_tokens(session, [grant_id])
    if claimed != 1:
        return False
    grant = session.get(Grant, grant_id)
    session.refresh(grant)
    installation = session.get(Installation, grant.installation_id)
    if installation.state != "installed" or installation.status == "disconnected":
        return True
    remaining = _active_grants(session, installation)
    if installation.app.install_level == "user" and remaining:
        installation.granted_scopes = _union(*(g.scopes for g in remaining))
        refresh_flags(session, installation)
        record_event(session, installation, "disconnected", None,
                     {"user_grant": True, "reason": reason, "user_id": grant.user_id},
                     occurred_at=now, actor_app=True)
        session.flush()
    else:
        disconnect(session, installation, None, reason, now)
    return True
