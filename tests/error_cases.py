"""The refusals of each route, for tests/test_error_shapes.py: who asks what, and the status and
message that come back. A route missing here (and from ONLY_METHOD_AND_CSRF) fails that test."""
from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from tests.security_world import SYNC
from webapp.models import App, Grant, Installation
from webapp.services import lifecycle

# Pages that show their refusal in their own form and that htmx never asks for.
NEVER_HTMX = ("page", "json")
# Routes whose only 4xx is the wrong method (or, for browser writes, the missing CSRF token).
ONLY_METHOD_AND_CSRF = {"auth.home", "auth.logout", "oauth.metadata", "api.openapi_document",
                        "health.healthz", "health.readyz", "notifications.center",
                        "notifications.count", "notifications.read_all", "notifications.index",
                        "settings.index", "problems.index", "settings.account",
                        "settings.account_end_other_sessions"}


@dataclass
class Case:
    endpoint: str
    who: str  # admin, user, app (a multi-account app's token), plain_app, anonymous
    method: str
    url: str | Callable  # a callable gets the world
    status: int
    message: str
    form: dict | None = None
    json: object = None
    field: str | None = None
    target: str = "main"  # the element htmx targets when it asks
    setup: Callable | None = None  # prepares the state the refusal needs (runs once, first)
    forms: tuple = ("page", "fragment", "json")
    headers: dict = dataclasses.field(default_factory=dict)  # sent in every form


ACME_RULE = lambda w: w.ids["rule"]["acme"]  # noqa: E731
GLOBEX_RULE = lambda w: w.ids["rule"]["globex"]  # noqa: E731
APPS = "/settings/connected-apps/apps"
RULES = "/settings/connected-apps/notifications"
CONNECTION = APPS + "/notes-newt/connections/{}/disconnect"


def _raven_has_a_sync_setting(session, world):
    session.scalar(select(App).where(App.slug == "retired-raven")).sync_settings = SYNC
    session.commit()


def _carol_disconnected(session, world):
    grant = session.get(Grant, world.ids["grant"]["acme_user"])
    lifecycle.disconnect(session, session.get(Installation, grant.installation_id), None, "revoked")
    session.commit()


CASES = [
    Case("marketplace.index", "admin", "GET", "/marketplace/?category=Nope", 400,
         "Unknown category", target="marketplace-results"),
    Case("marketplace.listing", "admin", "GET", "/marketplace/no-such-app", 404,
         "There is no such app in the marketplace.", target="install-dialog-body"),
    Case("connected_apps.overview", "admin", "GET", "/settings/connected-apps/?activity=nope", 400,
         "Unknown activity type", target="app-log-table"),
    Case("connected_apps.my_apps", "admin", "GET", "/settings/connected-apps/my-apps?status=zzz",
         400, "Unknown status", target="my-apps-table"),
    Case("connected_apps.export_log", "admin", "GET", "/settings/connected-apps/log.csv?from=x",
         400, "From must be a date"),
    Case("connected_apps.app_page", "admin", "GET", APPS + "/globex-gizmo", 404,
         "This app is not installed in your workspace."),
    Case("connected_apps.app_page", "admin", "GET", APPS + "/ledger-lynx?user=abc", 400,
         "User must be chosen from the list", target="app-log-table"),
    Case("connected_apps.uninstall", "user", "POST", APPS + "/ledger-lynx/uninstall", 403,
         "Only admins can do this."),
    Case("connected_apps.uninstall", "admin", "POST", APPS + "/no-such-app/uninstall", 404,
         "This app is not installed in your workspace."),
    Case("connected_apps.uninstall", "admin", "POST", APPS + "/retired-raven/uninstall", 409,
         "Retired Raven is not installed."),
    Case("connected_apps.disconnect", "user", "POST", APPS + "/ledger-lynx/disconnect", 403,
         "Only admins can do this."),
    Case("connected_apps.disconnect", "admin", "POST", APPS + "/globex-gizmo/disconnect", 404,
         "This app is not installed in your workspace."),
    Case("connected_apps.disconnect", "admin", "POST", APPS + "/retired-raven/disconnect", 409,
         "Retired Raven is not installed."),
    Case("connected_apps.set_sync", "user", "POST", APPS + "/ledger-lynx/sync/contact_sync", 403,
         "Only admins can do this.", form={"enabled": "on"}),
    Case("connected_apps.set_sync", "admin", "POST", APPS + "/ledger-lynx/sync/nope", 404,
         "This app has no such sync setting.", form={"enabled": "on"}),
    Case("connected_apps.set_sync", "admin", "POST", APPS + "/ledger-lynx/sync/contact_sync", 400,
         "Choose whether to turn the setting on or off.", form={"enabled": "maybe"}),
    Case("connected_apps.set_sync", "admin", "POST", APPS + "/retired-raven/sync/contact_sync", 409,
         "Retired Raven is not installed.", form={"enabled": "on"}, setup=_raven_has_a_sync_setting),
    Case("connected_apps.disconnect_my_connection", "user", "POST",
         lambda w: CONNECTION.format(w.ids["grant"]["acme_admin"]), 403,
         "You can only disconnect your own connection."),
    Case("connected_apps.disconnect_my_connection", "user", "POST",
         lambda w: CONNECTION.format(w.ids["grant"]["globex"]), 404, "There is no such connection."),
    Case("connected_apps.disconnect_my_connection", "user", "POST",
         lambda w: CONNECTION.format(w.ids["grant"]["acme_user"]), 409,
         "You have not connected Notes Newt.", setup=_carol_disconnected),
    Case("notifications.open_notification", "user", "POST",
         lambda w: f"/notifications/{w.ids['notification']['globex']}/open", 404,
         "This notification does not exist."),
    Case("notifications.new_rule", "user", "GET", RULES + "/new", 403, "Only admins can do this.",
         target="notifications-content"),
    Case("notifications.manage_rule", "user", "GET", lambda w: f"{RULES}/{ACME_RULE(w)}/manage",
         403, "Only admins can do this.", target="notifications-content"),
    Case("notifications.manage_rule", "admin", "GET", lambda w: f"{RULES}/{GLOBEX_RULE(w)}/manage",
         404, "This notification does not exist.", target="notifications-content"),
    Case("notifications.delete_rule", "user", "DELETE", lambda w: f"{RULES}/{ACME_RULE(w)}", 403,
         "Only admins can do this.", target="rule-1"),
    Case("notifications.delete_rule", "admin", "DELETE", lambda w: f"{RULES}/{GLOBEX_RULE(w)}",
         404, "This notification does not exist.", target="rule-1"),
    Case("notifications.wizard", "user", "POST", RULES + "/wizard", 403, "Only admins can do this.",
         form={"step": "1"}, target="notifications-content"),
    Case("notifications.wizard", "admin", "POST", RULES + "/wizard", 404,
         "This notification does not exist.", form={"rule_id": "abc"}, target="notifications-content"),
    Case("notifications.wizard", "admin", "POST", RULES + "/wizard", 400,
         "Notification type must be", form={"rule_type": "bogus"}, target="notifications-content"),
    Case("notifications.wizard", "admin", "POST", RULES + "/wizard", 422,
         "Enter a notification name.", form={"step": "1"}, target="notifications-content"),
    Case("settings.account_password", "user", "POST", "/settings/account/password", 422,
         "The current password is not right.", form={"current_password": "wrong",
                                                     "new_password": "a-new-long-secret",
                                                     "confirm_password": "a-new-long-secret"},
         forms=NEVER_HTMX),
    Case("auth.login", "anonymous", "POST", "/login", 401, "Wrong email or password.",
         form={"email": "bob@acme.test", "password": "wrong"}, forms=NEVER_HTMX),
    Case("oauth.authorize", "admin", "GET", "/oauth/authorize?client_id=nobody&response_type=code",
         400, "authorization request is not valid", forms=NEVER_HTMX),
    # RFC 6749 5.2: 400 when the client tried no authentication scheme, 401 when it did.
    Case("oauth.token", "anonymous", "POST", "/oauth/token", 400, "invalid_client",
         form={"grant_type": "authorization_code", "client_id": "nobody"}),
    Case("oauth.token", "anonymous", "POST", "/oauth/token", 401, "invalid_client",
         form={"grant_type": "authorization_code"},
         headers={"Authorization": "Basic " + base64.b64encode(b"nobody:wrong").decode()}),
    Case("oauth.token", "anonymous", "POST", "/oauth/token", 400, "NUL character",
         form={"grant_type": "refresh_token\x00"}),
    Case("oauth.revoke", "anonymous", "POST", "/oauth/revoke", 401, "invalid_client",
         form={"token": "x", "client_id": "nobody"}),
    Case("oauth.introspect", "anonymous", "POST", "/oauth/introspect", 401, "invalid_client",
         form={"token": "x", "client_id": "nobody"}),
    Case("api.list_accounts", "anonymous", "GET", "/api/v1/accounts", 401, "Send an access token"),
    Case("api.list_accounts", "plain_app", "GET", "/api/v1/accounts", 403,
         "Only multi-account apps report external accounts."),
    Case("api.add_account", "app", "POST", "/api/v1/accounts", 400, "Send a JSON object",
         form={"external_id": "x"}),
    Case("api.add_account", "app", "POST", "/api/v1/accounts", 400, "“name” is missing.",
         json={"external_id": "x"}, field="name"),
    Case("api.add_account", "app", "POST", "/api/v1/accounts", 409, "already exists",
         json={"external_id": "li-acme-1", "name": "Again"}, field="external_id"),
    Case("api.get_account", "app", "GET", "/api/v1/accounts/nope", 404,
         "No account with external id “nope”."),
    Case("api.update_account", "app", "PATCH", "/api/v1/accounts/li-acme-1", 400,
         "“external_id” cannot be changed", json={"external_id": "y"}, field="external_id"),
    Case("api.update_account", "app", "PATCH", "/api/v1/accounts/nope", 404,
         "No account with external id", json={"name": "Y"}),
    Case("api.remove_account", "app", "DELETE", "/api/v1/accounts/nope", 404,
         "No account with external id"),
    Case("api.report_alert", "anonymous", "PUT", "/api/v1/installation/alerts/sync", 401,
         "Send an access token", json={"title": "Sync failing"}),
    Case("api.report_alert", "plain_app", "PUT", "/api/v1/installation/alerts/sync", 400,
         "“title” is missing.", json={"detail": "No title"}, field="title"),
    Case("api.report_alert", "plain_app", "PUT", "/api/v1/installation/alerts/Not%20a%20key", 400,
         "An alert key is 1 to 64", json={"title": "Sync failing"}, field="key"),
    Case("api.resolve_alert", "plain_app", "DELETE", "/api/v1/installation/alerts/nope", 404,
         "No open alert with the key “nope”.", field="key"),
    Case("static", "anonymous", "GET", "/static/no-such.css", 404, "not found on the server"),
]
