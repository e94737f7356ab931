"""The policy: which actions each role has on installations, listings, consent and rules, and the
error (Forbidden for the role, Conflict for the state) each refusal raises."""
from __future__ import annotations

import pytest

from webapp.models import App, Grant, Installation, User, Workspace
from webapp.services import lifecycle
from webapp.services.errors import Conflict, Forbidden
from webapp.services.policy import (Action, Reason, attention_actions, consent_actions,
                                    installation_actions, listing_actions, notification_actions,
                                    require_own_connection)

ACME = 1
MANAGE = {Action.UNINSTALL, Action.DISCONNECT, Action.CHANGE_SYNC}


def person(role: str, workspace_id: int = ACME, user_id: int = 10) -> User:
    return User(id=user_id, workspace_id=workspace_id, role=role, name=role, email=f"{role}@x.test")


def app_of(level: str = "account", install_page: bool = True) -> App:
    return App(slug="crm", name="CRM", install_level=level,
               install_url="https://crm.example/install" if install_page else None)


def installation_of(app: App, status: str = "connected", state: str = "installed") -> Installation:
    installation = Installation(workspace_id=ACME, state=state, status=status)
    installation.app = app
    return installation


def actions_on(status="connected", role="admin", level="account", state="installed", *,
               install_page=True, mine=False, new_scopes=False):
    return installation_actions(installation_of(app_of(level, install_page), status, state),
                                person(role), connected_myself=mine, new_scopes=new_scopes)


@pytest.mark.parametrize("role", ["super_admin", "admin"])
def test_admins_manage_a_connected_installation(role):
    assert set(actions_on(role=role).allowed) == MANAGE
    assert set(actions_on(role=role, new_scopes=True).allowed) == MANAGE | {Action.REAUTHENTICATE}


def test_a_user_manages_nothing_and_is_refused_for_the_role():
    actions = actions_on(role="user", new_scopes=True)
    assert not actions.allowed
    for action in (*MANAGE, Action.REAUTHENTICATE, Action.RECONNECT):
        assert actions.refused_for(action) == Reason.ADMINS_ONLY
    with pytest.raises(Forbidden, match="Only admins"):
        actions.require(Action.UNINSTALL)


def test_an_admin_may_disconnect_an_expired_installation_and_reconnect_it():
    actions = actions_on("expired", new_scopes=True)
    assert {Action.DISCONNECT, Action.RECONNECT} <= actions.allowed
    assert actions.refused_for(Action.REAUTHENTICATE) == Reason.NEEDS_RECONNECT


def test_an_installation_in_error_is_disconnected_not_reconnected():
    actions = actions_on("error")
    assert Action.DISCONNECT in actions
    assert actions.refused_for(Action.RECONNECT) == Reason.NOT_DISCONNECTED


def test_a_disconnected_installation_is_reconnected_not_disconnected_again():
    actions = actions_on("disconnected")
    assert Action.RECONNECT in actions and Action.UNINSTALL in actions
    with pytest.raises(Conflict, match="CRM is already disconnected."):
        actions.require(Action.DISCONNECT)


def test_without_an_install_page_reconnect_and_re_authenticate_are_refused_with_that_reason():
    assert actions_on("disconnected", install_page=False).refused_for(Action.RECONNECT) == \
        Reason.NO_INSTALL_PAGE
    connected = actions_on(install_page=False, new_scopes=True)
    assert connected.refused_for(Action.REAUTHENTICATE) == Reason.NO_INSTALL_PAGE
    # Nothing to re-authenticate: the missing install page is not the reason.
    assert actions_on(install_page=False).refused_for(Action.REAUTHENTICATE) == Reason.NOTHING_NEW


def test_a_multi_account_installation_is_neither_disconnected_nor_reconnected_as_a_whole():
    for status in ("connected", "disconnected", "expired", "error"):
        actions = actions_on(status, level="multi_account", new_scopes=True)
        assert actions.allowed == {Action.UNINSTALL, Action.CHANGE_SYNC, Action.REAUTHENTICATE}
        assert actions.refused_for(Action.DISCONNECT) == Reason.MULTI_ACCOUNT
        assert actions.refused_for(Action.RECONNECT) == Reason.MULTI_ACCOUNT


def test_a_user_level_app_is_connected_and_disconnected_by_each_user_for_themself():
    assert actions_on(role="user", level="user").allowed == {Action.CONNECT}
    mine = actions_on(role="user", level="user", mine=True, new_scopes=True)
    assert mine.allowed == {Action.DISCONNECT_MY_CONNECTION, Action.REAUTHENTICATE}
    assert mine.refused_for(Action.CONNECT) == Reason.ALREADY_CONNECTED
    admin = actions_on(role="admin", level="user")
    assert admin.allowed == MANAGE | {Action.CONNECT}
    with pytest.raises(Conflict, match="You have not connected CRM."):
        admin.require(Action.DISCONNECT_MY_CONNECTION)


def test_an_account_level_app_has_no_personal_connection():
    actions = actions_on(role="user", mine=True, new_scopes=True)
    assert not actions.allowed
    assert actions.refused_for(Action.CONNECT) == Reason.NOT_USER_LEVEL
    assert actions.refused_for(Action.REAUTHENTICATE) == Reason.ADMINS_ONLY


@pytest.mark.parametrize("level, role, allowed", [
    ("account", "admin", True), ("account", "user", False), ("multi_account", "user", False),
    ("user", "user", True), ("user", "super_admin", True)])
def test_an_uninstalled_app_is_installed_again_by_whoever_may_install_it(level, role, allowed):
    actions = actions_on("disconnected", role=role, level=level, state="uninstalled",
                         mine=True, new_scopes=True)
    assert actions.allowed == ({Action.INSTALL_AGAIN} if allowed else set())
    assert actions.refused_for(Action.DISCONNECT_MY_CONNECTION) in (Reason.NOT_CONNECTED,
                                                                     Reason.NOT_USER_LEVEL)
    if role != "user":
        for action in MANAGE:
            with pytest.raises(Conflict, match="CRM is not installed."):
                actions.require(action)


def test_without_an_install_page_nobody_installs_again():
    actions = actions_on("disconnected", state="uninstalled", install_page=False)
    assert actions.refused_for(Action.INSTALL_AGAIN) == Reason.NO_INSTALL_PAGE


def test_another_workspaces_member_may_do_nothing():
    installation = installation_of(app_of("user"))
    actions = installation_actions(installation, person("super_admin", workspace_id=2),
                                   connected_myself=True, new_scopes=True)
    assert not actions.allowed
    with pytest.raises(Forbidden):
        actions.require(Action.CONNECT)


def test_only_the_owner_of_a_connection_disconnects_it():
    grant = Grant(user_id=10)
    require_own_connection(grant, person("user", user_id=10))
    with pytest.raises(Forbidden, match="your own connection"):
        require_own_connection(grant, person("super_admin", user_id=11))


@pytest.mark.parametrize("role, level, install_page, expected", [
    ("admin", "account", True, None), ("super_admin", "multi_account", True, None),
    ("user", "user", True, None), ("user", "account", True, Reason.ADMINS_ONLY),
    ("user", "multi_account", True, Reason.ADMINS_ONLY),
    ("admin", "account", False, Reason.NO_INSTALL_PAGE),
    ("user", "account", False, Reason.NO_INSTALL_PAGE)])
def test_the_marketplace_offers_install_to_whoever_may_install(role, level, install_page,
                                                               expected):
    actions = listing_actions(app_of(level, install_page), person(role), installed=False,
                              connected_myself=False)
    assert actions.refused_for(Action.INSTALL) == expected
    assert (Action.INSTALL in actions) is (expected is None)
    assert Action.CONNECT not in actions


def test_an_installed_listing_offers_connect_to_users_of_a_user_level_app_not_yet_connected():
    def listed(level, mine=False, install_page=True, role="user"):
        return listing_actions(app_of(level, install_page), person(role), installed=True,
                               connected_myself=mine)

    assert listed("user").allowed == {Action.CONNECT}
    assert listed("user", role="super_admin").allowed == {Action.CONNECT}
    assert listed("user", mine=True).refused_for(Action.CONNECT) == Reason.ALREADY_CONNECTED
    assert listed("user", install_page=False).refused_for(Action.CONNECT) == Reason.NO_INSTALL_PAGE
    assert not listed("account", role="admin").allowed
    assert listed("account", role="admin").refused_for(Action.INSTALL) == Reason.ALREADY_INSTALLED


@pytest.mark.parametrize("role, level, allowed", [
    ("user", "user", True), ("user", "account", False), ("user", "multi_account", False),
    ("admin", "account", True), ("super_admin", "multi_account", True)])
def test_consent_is_for_admins_unless_the_app_is_user_level(role, level, allowed):
    workspace = Workspace(id=ACME)
    actions = consent_actions(workspace, app_of(level), person(role))
    assert (Action.CONSENT in actions) is allowed
    if allowed:
        lifecycle.check_may_consent(workspace, app_of(level), person(role))
    else:
        with pytest.raises(Forbidden, match="CRM connects to the whole workspace: ask an admin"):
            lifecycle.check_may_consent(workspace, app_of(level), person(role))


def test_nobody_consents_for_another_workspace():
    with pytest.raises(Forbidden, match="your own workspace"):
        lifecycle.check_may_consent(Workspace(id=2), app_of("user"), person("super_admin"))


@pytest.mark.parametrize("role, allowed", [("super_admin", True), ("admin", True), ("user", False)])
def test_admins_create_manage_and_delete_notification_rules(role, allowed):
    actions = notification_actions(person(role))
    rule_actions = {Action.CREATE_NOTIFICATION, Action.MANAGE_NOTIFICATION,
                    Action.DELETE_NOTIFICATION}
    assert actions.allowed == (rule_actions if allowed else set())


def test_templates_ask_with_plain_words_and_nothing_undecided_is_allowed():
    actions = actions_on()
    assert "uninstall" in actions and "install_again" not in actions
    assert actions.refused_for("install_again") == "already_installed"
    with pytest.raises(LookupError):
        actions.require(Action.CREATE_NOTIFICATION)


@pytest.mark.parametrize("status, level, install_page, role, offered", [
    ("disconnected", "account", True, "admin", {Action.RECONNECT, Action.VIEW_APP}),
    ("expired", "user", True, "super_admin", {Action.RECONNECT, Action.VIEW_APP}),
    ("disconnected", "account", False, "admin", {Action.VIEW_APP}),
    ("error", "account", True, "admin", {Action.VIEW_APP}),
    ("disconnected", "multi_account", True, "admin", {Action.VIEW_APP}),
    ("disconnected", "account", True, "user", set()),
    ("error", "user", True, "user", set()),
])
def test_needs_your_attention_offers_reconnect_on_the_app_pages_terms_to_admins_only(
        status, level, install_page, role, offered):
    installation = installation_of(app_of(level, install_page), status)
    actions = attention_actions(installation, person(role))
    assert set(actions.allowed) == offered
    page = installation_actions(installation, person(role), connected_myself=False,
                                new_scopes=False)
    assert (Action.RECONNECT in actions) == (Action.RECONNECT in page)


def test_needs_your_attention_offers_nothing_on_another_workspaces_installation():
    installation = installation_of(app_of(), "disconnected")
    actions = attention_actions(installation, person("super_admin", workspace_id=2))
    assert not actions.allowed
    assert actions.refused_for(Action.VIEW_APP) == Reason.OTHER_WORKSPACE
