"""Lifecycle actions of the app page: uninstall, disconnect, sync settings, a user's own connection.

Every route is a POST (CSRF-checked), fetches the installation through the user's workspace (404
for anyone else's), checks the role on the server, and commits the lifecycle step with its event.
"""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.blueprints.connected_apps import bp
from webapp.extensions import db, htmx
from webapp.models import Grant, Installation
from webapp.services import connections, installations, lifecycle
from webapp.web import admin_required

SYNC_VALUES = {"on": True, "off": False}


def page_context(installation: Installation) -> dict:
    """What the app page's action partials need, for the current user."""
    app = installation.app
    installed = installation.state == "installed"
    people = (connections.user_connections(db.session, installation)
              if installed and app.install_level == "user" else [])
    return {
        "can_manage": current_user.is_admin,
        "install_link": connections.install_link(app, current_user.workspace.slug),
        "reauth_scopes": (lifecycle.scopes_for_reauthentication(db.session, installation)
                          if installed else []),
        "connections": people,
        "my_connection": next((c for c in people if c.user.id == current_user.id), None),
    }


@bp.app_template_global("install_link")
def install_link_for_current_workspace(app) -> str | None:
    """For templates (marketplace cards, listing, dialog): the app's install URL for this workspace."""
    return connections.install_link(app, current_user.workspace.slug)


def may_install(app) -> bool:
    """Admins install for the workspace; anyone connects a user-level app for themself."""
    return bool(app.install_url) and (current_user.is_admin or app.install_level == "user")


bp.add_app_template_global(may_install, "may_install")


def _installation(slug: str) -> Installation:
    installation = installations.installation_for_slug(db.session, current_user.workspace_id, slug)
    if installation is None:
        abort(404, description="This app is not installed in your workspace.")
    return installation


def _done(installation: Installation, message: str):
    """Back to the app page, where the flash tells what happened (HX-Redirect for htmx)."""
    flash(message)
    target = url_for("connected_apps.app_page", slug=installation.app.slug)
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


def _refused(error: lifecycle.LifecycleError):
    db.session.rollback()
    abort(409, description=str(error))


@bp.post("/apps/<slug>/uninstall")
@admin_required
def uninstall(slug: str):
    installation = _installation(slug)
    try:
        lifecycle.uninstall(db.session, installation, current_user._get_current_object())
    except lifecycle.LifecycleError as error:
        _refused(error)
    db.session.commit()
    return _done(installation, f"{installation.app.name} was uninstalled.")


@bp.post("/apps/<slug>/disconnect")
@admin_required
def disconnect(slug: str):
    installation = _installation(slug)
    try:
        lifecycle.disconnect(db.session, installation, current_user._get_current_object(),
                             "admin_disconnected")
    except lifecycle.LifecycleError as error:
        _refused(error)
    db.session.commit()
    return _done(installation, f"{installation.app.name} was disconnected.")


@bp.post("/apps/<slug>/sync/<key>")
@admin_required
def set_sync(slug: str, key: str):
    installation = _installation(slug)
    setting = next((s for s in installation.app.sync_settings or [] if s.get("key") == key), None)
    if setting is None:
        abort(404, description="This app has no such sync setting.")
    enabled = SYNC_VALUES.get(request.form.get("enabled", ""))
    if enabled is None:
        abort(400, description="Choose whether to turn the setting on or off.")
    if installation.state != "installed":
        abort(409, description=f"{installation.app.name} is not installed.")
    try:
        lifecycle.set_sync(db.session, installation, key, enabled,
                           current_user._get_current_object())
    except lifecycle.LifecycleError as error:
        _refused(error)
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
        abort(404, description="There is no such connection.")
    if grant.user_id != current_user.id:
        abort(403, description="You can only disconnect your own connection.")
    try:
        lifecycle.disconnect_user_grant(db.session, installation, current_user._get_current_object())
    except lifecycle.LifecycleError as error:
        _refused(error)
    db.session.commit()
    return _done(installation, f"Your connection to {installation.app.name} was disconnected.")
