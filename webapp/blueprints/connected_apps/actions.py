"""Lifecycle actions of the app page: uninstall, disconnect, sync settings, a user's own connection.

Every route is a POST (CSRF-checked), fetches the installation through the user's workspace (404
for anyone else's), asks the policy whether this user may do it now (403 for the role, 409 for
the state), and commits the lifecycle step with its event. Refusals are DomainErrors, which the
error handler answers (rolling back the request's writes).
"""
from __future__ import annotations

from flask import flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.blueprints.connected_apps import bp
from webapp.extensions import db, htmx
from webapp.models import Grant, Installation
from webapp.services import connections, installations, lifecycle, policy
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.policy import Action

SYNC_VALUES = {"on": True, "off": False}


def page_context(installation: Installation) -> dict:
    """What the app page's action partials need, for the current user."""
    app = installation.app
    installed = installation.state == "installed"
    people = (connections.user_connections(db.session, installation)
              if installed and app.install_level == "user" else [])
    my_connection = next((c for c in people if c.user.id == current_user.id), None)
    reauth_scopes = (lifecycle.scopes_for_reauthentication(db.session, installation)
                     if installed else [])
    return {
        "actions": policy.installation_actions(installation, current_user,
                                               connected_myself=my_connection is not None,
                                               new_scopes=bool(reauth_scopes)),
        "install_link": connections.install_link(app, current_user.workspace.slug),
        "reauth_scopes": reauth_scopes,
        "connections": people,
        "my_connection": my_connection,
    }


@bp.app_template_global("install_link")
def install_link_for_current_workspace(app) -> str | None:
    """For templates (marketplace cards, listing, dialog): the app's install URL for this workspace."""
    return connections.install_link(app, current_user.workspace.slug)


def _require(installation: Installation, action: Action) -> None:
    """Raises the policy's refusal of `action` for the current user (Forbidden or Conflict)."""
    installed = installation.state == "installed"
    user_level = installation.app.install_level == "user"
    connected = installed and user_level and connections.user_has_grant(
        db.session, installation.workspace_id, installation.app_id, current_user.id)
    new_scopes = installed and bool(lifecycle.scopes_for_reauthentication(db.session, installation))
    policy.installation_actions(installation, current_user, connected_myself=connected,
                                new_scopes=new_scopes).require(action)


def _installation(slug: str) -> Installation:
    return installations.installation_for_slug(db.session, current_user.workspace_id, slug)


def _done(installation: Installation, message: str):
    """Back to the app page, where the flash tells what happened (HX-Redirect for htmx)."""
    flash(message)
    target = url_for("connected_apps.app_page", slug=installation.app.slug)
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


@bp.post("/apps/<slug>/uninstall")
@login_required
def uninstall(slug: str):
    installation = _installation(slug)
    _require(installation, Action.UNINSTALL)
    lifecycle.uninstall(db.session, installation, current_user._get_current_object())
    db.session.commit()
    return _done(installation, f"{installation.app.name} was uninstalled.")


@bp.post("/apps/<slug>/disconnect")
@login_required
def disconnect(slug: str):
    installation = _installation(slug)
    _require(installation, Action.DISCONNECT)
    lifecycle.disconnect(db.session, installation, current_user._get_current_object(),
                         "admin_disconnected")
    db.session.commit()
    return _done(installation, f"{installation.app.name} was disconnected.")


@bp.post("/apps/<slug>/sync/<key>")
@login_required
def set_sync(slug: str, key: str):
    installation = _installation(slug)
    _require(installation, Action.CHANGE_SYNC)
    setting = next((s for s in installation.app.sync_settings or [] if s.get("key") == key), None)
    if setting is None:
        raise NotFound("This app has no such sync setting.")
    enabled = SYNC_VALUES.get(request.form.get("enabled", ""))
    if enabled is None:
        raise InvalidInput("Choose whether to turn the setting on or off.", field="enabled")
    lifecycle.set_sync(db.session, installation, key, enabled, current_user._get_current_object())
    db.session.commit()
    label = setting.get("label", key)
    return _done(installation, f"{label} turned {'on' if enabled else 'off'}.")


@bp.post("/apps/<slug>/connections/<int:grant_id>/disconnect")
@login_required
def disconnect_my_connection(slug: str, grant_id: int):
    """A user withdraws their own connection to a user-level app; nobody else's."""
    installation = _installation(slug)
    grant = db.session.get(Grant, grant_id)
    if (grant is None or grant.installation_id != installation.id
            or grant.workspace_id != current_user.workspace_id
            or installation.app.install_level != "user"):
        raise NotFound("There is no such connection.")
    policy.require_own_connection(grant, current_user)
    _require(installation, Action.DISCONNECT_MY_CONNECTION)
    lifecycle.disconnect_user_grant(db.session, installation, current_user._get_current_object())
    db.session.commit()
    return _done(installation, f"Your connection to {installation.app.name} was disconnected.")
