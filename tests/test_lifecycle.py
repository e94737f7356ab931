"""The lifecycle service: every step writes exactly one event and moves the summary as defined."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app, make_user
from webapp.models import Event, Grant, Installation, Token
from webapp.services import lifecycle
from webapp.services.errors import Forbidden
from webapp.services.lifecycle import LifecycleError
from webapp.services.summary import app_summary


def events(session) -> list[tuple[str, int | None, dict]]:
    return [(e.activity, e.actor_id, e.details)
            for e in session.scalars(select(Event).order_by(Event.id))]


def summary(session, workspace):
    return app_summary(session, workspace.id)


def installation_of(session, app) -> Installation:
    return session.scalar(select(Installation).where(Installation.app_id == app.id))


def issue_token(session, grant: Grant, suffix: str) -> Token:
    token = Token(grant_id=grant.id, app_id=grant.app_id, workspace_id=grant.workspace_id,
                  user_id=grant.user_id, access_token_hash="a" * 60 + suffix,
                  refresh_token_hash="r" * 60 + suffix, scope=" ".join(grant.scopes),
                  expires_in=3600)
    session.add(token)
    session.flush()
    return token


@pytest.fixture
def sync_app(session, people):
    app = make_app(session, "acme-sync", name="Acme Sync", required_scopes=["contacts.read"],
                   optional_scopes=["contacts.write"],
                   sync_settings=[{"key": "contact_sync", "label": "Contact sync", "default": True}])
    session.commit()
    return app


def test_first_grant_installs_with_one_event(session, people, sync_app):
    admin = people["admin"]
    grant = lifecycle.consent(session, people["acme"], sync_app, admin, ["contacts.read"])
    session.commit()
    installation = installation_of(session, sync_app)
    assert (installation.state, installation.status) == ("installed", "connected")
    assert installation.installed_by_id == admin.id
    assert installation.granted_scopes == ["contacts.read"] == grant.scopes
    assert installation.sync_values == {"contact_sync": True}
    assert events(session) == [("installed", admin.id, {})]
    # contacts.write is asked for, allowed by the plan and not granted
    assert installation.update_available is True
    counts = summary(session, people["acme"])
    assert (counts.connected_apps, counts.updates_available) == (1, 1)


def test_consent_to_more_scopes_reauthenticates(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    lifecycle.consent(session, people["acme"], sync_app, people["super_admin"],
                      ["contacts.read", "contacts.write"])
    session.commit()
    installation = installation_of(session, sync_app)
    assert installation.granted_scopes == ["contacts.read", "contacts.write"]
    assert installation.update_available is False
    assert installation.installed_by_id == people["admin"].id
    assert [e[0] for e in events(session)] == ["installed", "reauthenticated"]
    assert events(session)[1][2] == {"scopes": ["contacts.write"]}
    assert summary(session, people["acme"]).updates_available == 0


def test_identical_reconsent_writes_nothing(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    assert [e[0] for e in events(session)] == ["installed"]
    assert session.scalar(select(func.count()).select_from(Grant)) == 2


def test_uninstall_revokes_every_grant_and_token(session, people, sync_app):
    grant = lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    token = issue_token(session, grant, "1")
    session.commit()
    installation = installation_of(session, sync_app)
    lifecycle.uninstall(session, installation, people["super_admin"])
    session.commit()
    session.refresh(token)
    session.refresh(grant)
    assert installation.state == "uninstalled" and installation.uninstalled_at is not None
    assert token.revoked_at is not None and grant.revoked_at is not None
    assert events(session)[-1] == ("uninstalled", people["super_admin"].id, {})
    assert summary(session, people["acme"]).connected_apps == 0
    with pytest.raises(LifecycleError, match="not installed"):
        lifecycle.uninstall(session, installation, people["super_admin"])


def test_grant_after_uninstall_reinstalls(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    lifecycle.uninstall(session, installation_of(session, sync_app), people["admin"])
    session.commit()
    lifecycle.consent(session, people["acme"], sync_app, people["super_admin"], ["contacts.read"])
    session.commit()
    installation = installation_of(session, sync_app)
    assert (installation.state, installation.status) == ("installed", "connected")
    # A reinstall starts a new life: installed by the person who reinstalled
    assert installation.installed_by_id == people["super_admin"].id
    assert installation.uninstalled_at is None
    assert [e[0] for e in events(session)] == ["installed", "uninstalled", "reinstalled"]
    assert summary(session, people["acme"]).connected_apps == 1


def test_disconnect_and_reconnect(session, people, sync_app):
    grant = lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    token = issue_token(session, grant, "1")
    session.commit()
    installation = installation_of(session, sync_app)
    lifecycle.disconnect(session, installation, people["admin"], reason="admin")
    session.commit()
    session.refresh(token)
    assert installation.status == "disconnected" and token.revoked_at is not None
    assert events(session)[-1] == ("disconnected", people["admin"].id, {"reason": "admin"})
    assert summary(session, people["acme"]).disconnected == 1
    with pytest.raises(LifecycleError, match="already disconnected"):
        lifecycle.disconnect(session, installation, people["admin"], reason="admin")

    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    assert installation.status == "connected"
    assert [e[0] for e in events(session)] == ["installed", "disconnected", "reconnected"]
    assert summary(session, people["acme"]).disconnected == 0


def test_disconnect_by_the_app_has_no_actor(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    lifecycle.disconnect(session, installation_of(session, sync_app), None, reason="revoked_by_app")
    session.commit()
    assert events(session)[-1] == ("disconnected", None, {"reason": "revoked_by_app"})


def test_required_scope_beyond_the_plan_blocks_with_the_plan_needed(session, people):
    app = make_app(session, "audit-pro", name="Audit Pro",
                   required_scopes=["contacts.read", "audit_logs.read"], optional_scopes=[])
    session.commit()
    with pytest.raises(LifecycleError, match="Audit Pro needs the Enterprise plan for audit_logs.read"):
        lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"])
    session.rollback()
    assert events(session) == []
    assert installation_of(session, app) is None


def test_conditionally_required_scope_counts_as_required(session, people):
    app = make_app(session, "cond", name="Cond", required_scopes=["contacts.read"],
                   conditional_scopes=["audit_logs.read"], optional_scopes=[])
    session.commit()
    with pytest.raises(LifecycleError, match="Enterprise plan"):
        lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"])


def test_optional_scope_beyond_the_plan_is_left_out_and_requires_upgrade(session, people):
    app = make_app(session, "opt", required_scopes=["contacts.read"],
                   optional_scopes=["audit_logs.read"])
    session.commit()
    grant = lifecycle.consent(session, people["acme"], app, people["admin"],
                              ["contacts.read", "audit_logs.read"])
    session.commit()
    installation = installation_of(session, app)
    assert grant.scopes == ["contacts.read"]
    assert installation.upgrade_available is True and installation.update_available is False
    assert summary(session, people["acme"]).upgrades_available == 1


def test_scope_the_app_does_not_ask_for_is_refused(session, people, sync_app):
    with pytest.raises(LifecycleError, match="does not ask for"):
        lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["files.read"])


def test_only_admins_may_connect_an_app_for_the_whole_workspace(session, people, sync_app):
    with pytest.raises(Forbidden, match="ask an admin"):
        lifecycle.check_may_consent(people["acme"], sync_app, people["user"])
    lifecycle.check_may_consent(people["acme"], sync_app, people["admin"])
    sync_app.install_level = "user"
    lifecycle.check_may_consent(people["acme"], sync_app, people["user"])


def test_a_user_cannot_consent_for_another_workspace(session, people, sync_app):
    with pytest.raises(LifecycleError):
        lifecycle.consent(session, people["acme"], sync_app, people["outsider"], ["contacts.read"])


def test_sync_toggle_writes_one_event_only_on_change(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    session.commit()
    installation = installation_of(session, sync_app)
    lifecycle.set_sync(session, installation, "contact_sync", True, people["admin"])
    lifecycle.set_sync(session, installation, "contact_sync", False, people["admin"])
    session.commit()
    assert installation.sync_values == {"contact_sync": False}
    assert events(session)[1:] == [("sync_off", people["admin"].id,
                                    {"key": "contact_sync", "label": "Contact sync"})]
    lifecycle.set_sync(session, installation, "contact_sync", True, people["admin"])
    assert events(session)[-1][0] == "sync_on"
    with pytest.raises(LifecycleError, match="no sync setting"):
        lifecycle.set_sync(session, installation, "nope", True, people["admin"])


def test_user_level_app_each_user_grants_for_themself(session, people):
    app = make_app(session, "notes", name="Notes", install_level="user")
    session.commit()
    carol, bob = people["user"], people["admin"]
    lifecycle.consent(session, people["acme"], app, carol, ["contacts.read"])
    session.commit()
    first_installed_at = installation_of(session, app).installed_at
    lifecycle.consent(session, people["acme"], app, bob, ["contacts.read"])
    session.commit()
    installation = installation_of(session, app)
    assert installation.installed_by_id == carol.id
    assert installation.installed_at == first_installed_at
    assert events(session) == [("installed", carol.id, {}),
                               ("installed", bob.id, {"user_grant": True})]
    assert summary(session, people["acme"]).connected_apps == 1

    lifecycle.disconnect_user_grant(session, installation, bob)
    session.commit()
    assert installation.status == "connected"
    assert events(session)[-1] == ("disconnected", bob.id, {"user_grant": True})
    with pytest.raises(LifecycleError):
        lifecycle.disconnect_user_grant(session, installation, bob)

    lifecycle.disconnect_user_grant(session, installation, carol)
    session.commit()
    assert installation.status == "disconnected"
    assert len(events(session)) == 4
    assert summary(session, people["acme"]).disconnected == 1


def test_new_version_with_more_scopes_makes_update_available(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"],
                      ["contacts.read", "contacts.write"])
    session.commit()
    installation = installation_of(session, sync_app)
    assert installation.update_available is False
    sync_app.version = "2.0.0"
    sync_app.optional_scopes = ["contacts.write", "files.read", "audit_logs.read"]
    assert lifecycle.refresh_flags_for_app(session, sync_app) == 1
    session.commit()
    assert (installation.update_available, installation.upgrade_available) == (True, True)
    assert lifecycle.scopes_for_reauthentication(session, installation) == ["files.read"]
    assert events(session) == [("installed", people["admin"].id, {})]


def test_refresh_token_reuse_disconnects_once(session, people, sync_app):
    grant = lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    token = issue_token(session, grant, "1")
    session.commit()
    assert lifecycle.revoke_grant(session, grant.id, "refresh_token_reuse") is True
    assert lifecycle.revoke_grant(session, grant.id, "refresh_token_reuse") is False
    session.commit()
    session.refresh(token)
    assert token.revoked_at is not None
    assert events(session)[-1] == ("disconnected", None, {"reason": "refresh_token_reuse"})
    assert [e[0] for e in events(session)] == ["installed", "disconnected"]


def test_other_workspace_user_with_own_workspace_installation_is_separate(session, people, sync_app):
    lifecycle.consent(session, people["acme"], sync_app, people["admin"], ["contacts.read"])
    lifecycle.consent(session, people["globex"], sync_app, people["outsider"], ["contacts.read"])
    session.commit()
    assert summary(session, people["acme"]).connected_apps == 1
    assert summary(session, people["globex"]).connected_apps == 1
    other = make_user(session, people["globex"], "gus@globex.test")
    acme_installation = session.scalar(select(Installation).where(
        Installation.workspace_id == people["acme"].id))
    with pytest.raises(LifecycleError):
        lifecycle.disconnect_user_grant(session, acme_installation, other)


def test_app_ending_one_users_grant_of_a_user_level_app_keeps_the_others(session, people):
    app = make_app(session, "notes", name="Notes", install_level="user")
    session.commit()
    carol_grant = lifecycle.consent(session, people["acme"], app, people["user"], ["contacts.read"])
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"])
    session.commit()
    assert lifecycle.revoke_grant(session, carol_grant.id, "revoked_by_app") is True
    session.commit()
    installation = installation_of(session, app)
    assert installation.status == "connected"
    assert events(session)[-1] == ("disconnected", None, {"user_grant": True, "reason": "revoked_by_app",
                                                          "user_id": people["user"].id})
    assert len(events(session)) == 3
