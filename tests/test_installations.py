"""Installations as pages show them: scope groups, flags, the status filter, lists."""
import pytest
from sqlalchemy import select

from tests.conftest import make_app, make_installation, make_user
from webapp.database import utcnow
from webapp.models import Alert, ExternalAccount, Scope
from webapp.services import installations as svc
from webapp.services.errors import NotFound
from webapp.services.external_accounts import list_accounts


@pytest.fixture
def scopes(session, people):
    return {scope.name: scope for scope in session.scalars(select(Scope))}


def names(views):
    return [view.name for view in views]


def test_granted_scopes_are_authorized_and_the_rest_split_by_plan(session, scopes):
    app = make_app(session, "crm-sync", required_scopes=["contacts.read"],
                   conditional_scopes=["files.read"],
                   optional_scopes=["contacts.write", "audit_logs.read"])
    groups = svc.scope_groups(app, ["contacts.read"], "starter", scopes)
    assert names(groups.authorized) == ["contacts.read"]
    assert names(groups.requires_upgrade) == ["audit_logs.read"]
    assert names(groups.available_after_reauth) == ["files.read", "contacts.write"]
    assert groups.requires_upgrade[0].min_plan == "enterprise"
    assert groups.authorized[0].description == scopes["contacts.read"].description
    assert groups.available_after_reauth[1].sensitivity == "write"


def test_a_lower_plan_moves_scopes_from_reauth_to_upgrade(session, scopes):
    app = make_app(session, "files-app", required_scopes=["contacts.read"],
                   optional_scopes=["files.read", "automation.write"])
    free = svc.scope_groups(app, ["contacts.read"], "free", scopes)
    pro = svc.scope_groups(app, ["contacts.read"], "professional", scopes)
    assert names(free.requires_upgrade) == ["files.read", "automation.write"]
    assert free.available_after_reauth == []
    assert pro.requires_upgrade == []
    assert names(pro.available_after_reauth) == ["files.read", "automation.write"]


def test_scope_groups_accept_an_installation(session, people, scopes):
    app = make_app(session, "crm-sync", optional_scopes=["contacts.write"])
    installation = make_installation(session, people["acme"], app,
                                     granted_scopes=["contacts.read", "contacts.write"])
    groups = svc.scope_groups(app, installation, "professional", scopes)
    assert names(groups.authorized) == ["contacts.read", "contacts.write"]
    assert groups.available_after_reauth == [] and groups.requires_upgrade == []


def test_a_scope_missing_from_the_catalogue_is_still_listed(session, scopes):
    app = make_app(session, "odd-app", required_scopes=["contacts.read", "legacy.scope"],
                   optional_scopes=[])
    groups = svc.scope_groups(app, ["contacts.read"], "free", scopes)
    assert names(groups.available_after_reauth) == ["legacy.scope"]
    assert "catalogue" in groups.available_after_reauth[0].description


@pytest.mark.parametrize("granted, plan, update, upgrade", [
    (["contacts.read", "contacts.write", "automation.write"], "enterprise", False, False),
    (["contacts.read", "contacts.write"], "enterprise", True, False),
    (["contacts.read", "contacts.write"], "starter", False, True),
    (["contacts.read"], "free", True, True),
])
def test_flags_follow_the_scope_groups(session, scopes, granted, plan, update, upgrade):
    app = make_app(session, "flaggy", required_scopes=["contacts.read"],
                   optional_scopes=["contacts.write", "automation.write"])
    flags = svc.compute_flags(app, granted, plan, scopes)
    assert (flags.update_available, flags.upgrade_available) == (update, upgrade)


def test_plan_covers_follows_the_plan_order():
    assert svc.plan_covers("professional", "starter")
    assert svc.plan_covers("starter", "starter")
    assert not svc.plan_covers("starter", "professional")
    assert not svc.plan_covers("enterprise", "platinum")


def test_status_filter_accepts_known_statuses_and_refuses_others():
    assert svc.parse_status_filter("") is None
    assert svc.parse_status_filter(None) is None
    assert svc.parse_status_filter("expired") == "expired"
    with pytest.raises(svc.UnknownStatus, match="Unknown status"):
        svc.parse_status_filter("installed")


def test_installed_installations_are_the_workspaces_installed_ones_by_name(session, people):
    acme, globex = people["acme"], people["globex"]
    zeta = make_installation(session, acme, make_app(session, "zeta"))
    alpha = make_installation(session, acme, make_app(session, "alpha"), status="error")
    make_installation(session, acme, make_app(session, "gone"), state="uninstalled")
    social = make_installation(session, acme, make_app(session, "social", install_level="multi_account"))
    make_installation(session, globex, make_app(session, "theirs"))
    session.commit()
    assert svc.installed_installations(session, acme.id) == [alpha, social, zeta]
    assert svc.installed_installations(session, acme.id, "error") == [alpha]
    # A status filter leaves multi-account apps out: they have no status.
    assert svc.installed_installations(session, acme.id, "connected") == [zeta]


def test_installation_for_slug_is_scoped_to_the_workspace(session, people):
    app = make_app(session, "only-acme")
    installation = make_installation(session, people["acme"], app)
    session.commit()
    assert svc.installation_for_slug(session, people["acme"].id, "only-acme") == installation
    for workspace, slug in ((people["globex"], "only-acme"), (people["acme"], "nope")):
        with pytest.raises(NotFound, match="not installed in your workspace"):
            svc.installation_for_slug(session, workspace.id, slug)


def test_open_alerts_leave_resolved_ones_out(session, people):
    installation = make_installation(session, people["acme"], make_app(session, "alerty"))
    now = utcnow()
    session.add_all([
        Alert(workspace_id=people["acme"].id, installation_id=installation.id, source="token",
              key="refresh-token", title="Refresh refused", first_seen=now, last_seen=now),
        Alert(workspace_id=people["acme"].id, installation_id=installation.id, source="health",
              key="health", title="Old problem", first_seen=now, last_seen=now, resolved_at=now),
    ])
    session.commit()
    assert [alert.title for alert in svc.open_alerts(session, installation)] == ["Refresh refused"]


def test_external_accounts_and_sync_rows(session, people):
    app = make_app(session, "social", install_level="multi_account",
                   sync_settings=[{"key": "posts", "label": "Post sync", "default": True},
                                  {"key": "dms", "label": "Direct messages", "default": False}])
    installation = make_installation(session, people["acme"], app, sync_values={"posts": False})
    session.add_all([ExternalAccount(workspace_id=people["acme"].id, installation_id=installation.id,
                                     external_id=str(n), name=name, status=status)
                     for n, (name, status) in enumerate([("Zed page", "connected"),
                                                         ("Acme page", "disconnected")])])
    session.commit()
    assert [a.name for a in list_accounts(session, installation)] == ["Acme page", "Zed page"]
    assert svc.sync_rows(app, installation) == [
        {"key": "posts", "label": "Post sync", "on": False},
        {"key": "dms", "label": "Direct messages", "on": False}]


def test_installed_by_is_the_first_granting_user(session, people):
    first = make_user(session, people["acme"], "first@acme.test", name="First Granter")
    app = make_app(session, "per-user", install_level="user")
    make_installation(session, people["acme"], app, installed_by=first)
    session.commit()
    [row] = svc.installed_installations(session, people["acme"].id)
    assert row.installed_by.name == "First Granter"
