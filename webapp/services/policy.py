"""Who may do what: the actions a user has on an installation, a marketplace listing, the consent
page and the notification rules, decided here and nowhere else.

Views enforce the answer (`actions.require(Action.UNINSTALL)` raises Forbidden for a role that
may not, Conflict for a state that does not allow it) and templates only render it
(`{% if "uninstall" in actions %}`). Every refused action keeps its first reason, so a page can
say why something is missing (an app without an install page) instead of hiding it silently.

Decisions worth knowing:
- Admins (and super admins) manage installations: uninstall, disconnect, reconnect, sync settings.
- An admin may disconnect an installation that is connected, in error or expired (its refresh
  tokens are still revoked); a disconnected one is already disconnected.
- A multi-account installation has no status of its own on its page (each external account has
  one), so it is neither disconnected nor reconnected as a whole; uninstalling ends it.
- Apps that act for the whole workspace (account and multi-account level) are installed and
  consented to by admins; anyone connects a user-level app for themself, re-authenticates their
  own connection and disconnects it, never someone else's.
- Installing, reconnecting and re-authenticating go through the app's install page: without one
  those actions are refused, with that reason.
- "Needs your attention" offers, beside each problem, Reconnect on the app page's terms and
  otherwise "View app", to admins; everyone else sees the problems without actions.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from webapp.models import App, Grant, Installation, User, Workspace
from webapp.services.errors import Conflict, DomainError, Forbidden


class Action(StrEnum):
    # On an installation's page
    UNINSTALL = "uninstall"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"  # through the app's install page
    REAUTHENTICATE = "reauthenticate"  # through the app's install page, for new scopes
    INSTALL_AGAIN = "install_again"  # an uninstalled app, through its install page
    CHANGE_SYNC = "change_sync"
    CONNECT = "connect"  # a user-level app, for oneself, through its install page
    DISCONNECT_MY_CONNECTION = "disconnect_my_connection"
    # Beside a problem in "Needs your attention"
    VIEW_APP = "view_app"  # where the problem is explained and whoever may fix it can
    # In the marketplace
    INSTALL = "install"
    # On the consent page ("Connect app")
    CONSENT = "consent"
    # Notification rules
    CREATE_NOTIFICATION = "create_notification"
    MANAGE_NOTIFICATION = "manage_notification"
    DELETE_NOTIFICATION = "delete_notification"


class Reason(StrEnum):
    """Why an action is refused; the first group is about who asks (Forbidden), the rest about
    the state of things (Conflict)."""

    ADMINS_ONLY = "admins_only"
    OTHER_WORKSPACE = "other_workspace"
    NOT_YOUR_CONNECTION = "not_your_connection"
    NOT_INSTALLED = "not_installed"
    ALREADY_INSTALLED = "already_installed"
    ALREADY_DISCONNECTED = "already_disconnected"
    NOT_DISCONNECTED = "not_disconnected"
    NEEDS_RECONNECT = "needs_reconnect"
    NOTHING_NEW = "nothing_new"
    MULTI_ACCOUNT = "multi_account"
    NOT_USER_LEVEL = "not_user_level"
    NOT_CONNECTED = "not_connected"
    ALREADY_CONNECTED = "already_connected"
    NO_INSTALL_PAGE = "no_install_page"


ROLE_REASONS = frozenset({Reason.ADMINS_ONLY, Reason.OTHER_WORKSPACE, Reason.NOT_YOUR_CONNECTION})
ADMINS_ONLY_MESSAGE = "Only admins can do this."


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str  # for the person who asked

    def error(self) -> DomainError:
        kind = Forbidden if self.reason in ROLE_REASONS else Conflict
        return kind(self.message)


@dataclass(frozen=True)
class Actions:
    """What one user may do with one thing now; `refusals` says why each other action is not."""

    allowed: frozenset[Action]
    refusals: Mapping[Action, Refusal] = field(default_factory=dict)

    def __contains__(self, action: object) -> bool:
        return action in self.allowed

    def refused_for(self, action: Action | str) -> Reason | None:
        refusal = self.refusals.get(action)
        return refusal.reason if refusal else None

    def require(self, action: Action) -> None:
        """Raises the refusal (Forbidden or Conflict) unless the action is allowed."""
        if action in self.allowed:
            return
        if action not in self.refusals:
            raise LookupError(f"nothing was decided about {action!r} here")
        raise self.refusals[action].error()


Check = tuple[bool, Reason, str]


def _first_refusal(*checks: Check) -> Refusal | None:
    for passed, reason, message in checks:
        if not passed:
            return Refusal(reason, message)
    return None


def _decide(checks: dict[Action, tuple[Check, ...]]) -> Actions:
    refusals = {action: refusal for action, rules in checks.items()
                if (refusal := _first_refusal(*rules)) is not None}
    return Actions(frozenset(action for action in checks if action not in refusals), refusals)


def _admin(user: User) -> Check:
    return user.is_admin, Reason.ADMINS_ONLY, ADMINS_ONLY_MESSAGE


def _install_page(app: App) -> Check:
    return bool(app.install_url), Reason.NO_INSTALL_PAGE, f"{app.name} has no install page registered."


def _connect_checks(app: App, installed: bool, connected_myself: bool) -> tuple[Check, ...]:
    """A user-level app that others installed: each user connects it for themself."""
    return ((installed, Reason.NOT_INSTALLED, f"{app.name} is not installed."),
            (app.install_level == "user", Reason.NOT_USER_LEVEL,
             f"{app.name} connects to the whole workspace, not for each user."),
            (not connected_myself, Reason.ALREADY_CONNECTED, f"You have already connected {app.name}."),
            _install_page(app))


def _is_installed(installation: Installation) -> Check:
    return (installation.state == "installed", Reason.NOT_INSTALLED,
            f"{installation.app.name} is not installed.")


def _whole(installation: Installation) -> Check:
    return (installation.app.install_level != "multi_account", Reason.MULTI_ACCOUNT,
            f"{installation.app.name} connects several accounts; it is not disconnected or "
            "reconnected as a whole.")


def _needs_reconnect(installation: Installation) -> bool:
    return (installation.app.install_level != "multi_account"
            and installation.status in ("disconnected", "expired"))


def _reconnect_checks(installation: Installation, user: User) -> tuple[Check, ...]:
    return (_admin(user), _is_installed(installation), _whole(installation),
            (_needs_reconnect(installation), Reason.NOT_DISCONNECTED,
             f"{installation.app.name} is connected."),
            _install_page(installation.app))


def _same_workspace(installation: Installation, user: User) -> Actions | None:
    """All refused when the installation is another workspace's; None otherwise."""
    if user.workspace_id == installation.workspace_id:
        return None
    refusal = Refusal(Reason.OTHER_WORKSPACE, "This app is not installed in your workspace.")
    return Actions(frozenset(), {action: refusal for action in Action})


def installation_actions(installation: Installation, user: User, *, connected_myself: bool,
                         new_scopes: bool) -> Actions:
    """The actions of an installation's page for `user`.

    `connected_myself`: the user holds a grant in force (it counts for user-level apps);
    `new_scopes`: the app asks for scopes the plan allows and the installation has not granted.
    """
    app = installation.app
    name = app.name
    if (elsewhere := _same_workspace(installation, user)) is not None:
        return elsewhere
    installed = installation.state == "installed"
    user_level = app.install_level == "user"
    mine = installed and user_level and connected_myself
    is_installed = _is_installed(installation)
    whole = _whole(installation)
    needs_reconnect = _needs_reconnect(installation)
    return _decide({
        Action.UNINSTALL: (_admin(user), is_installed),
        Action.DISCONNECT: (_admin(user), is_installed, whole,
                            (installation.status != "disconnected", Reason.ALREADY_DISCONNECTED,
                             f"{name} is already disconnected.")),
        Action.RECONNECT: _reconnect_checks(installation, user),
        Action.REAUTHENTICATE: ((user.is_admin or mine, Reason.ADMINS_ONLY, ADMINS_ONLY_MESSAGE),
                                is_installed,
                                (not needs_reconnect, Reason.NEEDS_RECONNECT,
                                 f"{name} needs to be reconnected first."),
                                (new_scopes, Reason.NOTHING_NEW,
                                 f"{name} has nothing new to authorize."),
                                _install_page(app)),
        Action.INSTALL_AGAIN: ((not installed, Reason.ALREADY_INSTALLED, f"{name} is installed."),
                               _install_page(app),
                               (user.is_admin or user_level, Reason.ADMINS_ONLY,
                                f"{name} connects to the whole workspace: ask an admin to "
                                "install it.")),
        Action.CHANGE_SYNC: (_admin(user), is_installed),
        Action.CONNECT: _connect_checks(app, installed, connected_myself),
        Action.DISCONNECT_MY_CONNECTION: (
            (user_level, Reason.NOT_USER_LEVEL,
             f"{name} connects to the whole workspace, not for each user."),
            (mine, Reason.NOT_CONNECTED, f"You have not connected {name}.")),
    })


def attention_actions(installation: Installation, user: User) -> Actions:
    """Beside a problem of the installation in "Needs your attention": Reconnect where the app
    page would offer it, and "View app"; both for admins only."""
    if (elsewhere := _same_workspace(installation, user)) is not None:
        return elsewhere
    return _decide({Action.RECONNECT: _reconnect_checks(installation, user),
                    Action.VIEW_APP: (_admin(user),)})


def require_own_connection(grant: Grant, user: User) -> None:
    """A connection (grant) is disconnected by its own user only, admins included."""
    if grant.user_id != user.id:
        raise Refusal(Reason.NOT_YOUR_CONNECTION,
                      "You can only disconnect your own connection.").error()


def listing_actions(app: App, user: User, *, installed: bool, connected_myself: bool) -> Actions:
    """A marketplace listing's actions: Install an app the workspace does not have (admins, or
    anyone for a user-level app), or Connect a user-level app that others installed."""
    return _decide({
        Action.INSTALL: ((not installed, Reason.ALREADY_INSTALLED, f"{app.name} is installed."),
                         _install_page(app),
                         (user.is_admin or app.install_level == "user", Reason.ADMINS_ONLY,
                          f"{app.name} connects to the whole workspace: ask an admin to "
                          "install it.")),
        Action.CONNECT: _connect_checks(app, installed, connected_myself),
    })


def consent_actions(workspace: Workspace, app: App, user: User) -> Actions:
    """The consent page's "Connect app": anyone connects a user-level app for themself; an app
    that acts for the whole workspace (account or multi-account level) is connected by an admin."""
    return _decide({
        Action.CONSENT: ((user.workspace_id == workspace.id, Reason.OTHER_WORKSPACE,
                          "You can only connect apps to your own workspace."),
                         (app.install_level == "user" or user.is_admin, Reason.ADMINS_ONLY,
                          f"{app.name} connects to the whole workspace: ask an admin to "
                          "connect it.")),
    })


def notification_actions(user: User) -> Actions:
    """Notification rules: everyone sees them; admins create, manage and delete them (and see
    their delivery failures)."""
    return _decide({action: (_admin(user),) for action in (
        Action.CREATE_NOTIFICATION, Action.MANAGE_NOTIFICATION, Action.DELETE_NOTIFICATION)})
