"""The overview's numbers, computed without HTTP."""
from tests.conftest import make_app, make_installation
from tests.page_helpers import statements
from webapp.models import LearningResource
from webapp.services import installations, marketplace, summary
from webapp.services.events import record_event


def seed_mix(session, people):
    """A mix of statuses, flags, levels and states; the expected numbers are in the test."""
    acme = people["acme"]
    rows = [
        # slug, level, state, status, update, upgrade
        ("a-connected", "account", "installed", "connected", False, False),
        ("b-connected-update", "account", "installed", "connected", True, False),
        ("c-user-upgrade", "user", "installed", "connected", False, True),
        ("d-disconnected", "account", "installed", "disconnected", True, True),
        ("e-expired", "user", "installed", "expired", False, False),
        ("f-error", "account", "installed", "error", False, True),
        ("g-error-2", "account", "installed", "error", True, False),
        ("h-uninstalled", "account", "uninstalled", "disconnected", True, True),
        ("i-multi", "multi_account", "installed", "error", True, True),
        ("j-multi-gone", "multi_account", "uninstalled", "connected", False, False),
    ]
    for slug, level, state, status, update, upgrade in rows:
        make_installation(session, acme, make_app(session, slug, install_level=level), state=state,
                          status=status, update_available=update, upgrade_available=upgrade)
    # Another workspace's installations never count.
    make_installation(session, people["globex"], make_app(session, "theirs"), status="error",
                      update_available=True)
    session.commit()


def test_summary_counts_installed_apps_that_are_not_multi_account(session, people):
    seed_mix(session, people)
    numbers = summary.app_summary(session, people["acme"].id)
    assert numbers == summary.AppSummary(connected_apps=7, disconnected=2, errors=2,
                                         updates_available=3, upgrades_available=3)
    assert numbers.items() == [("Connected apps", 7, "any"),
                               ("Disconnected", 2, "disconnected_or_expired"),
                               ("Errors", 2, "error"),
                               ("Updates available", 3, "update_available"),
                               ("Upgrades available", 3, "upgrade_available")]


def test_each_number_counts_the_rows_its_my_apps_filter_lists(session, people):
    seed_mix(session, people)
    workspace_id = people["acme"].id
    for label, number, status_filter in summary.app_summary(session, workspace_id).items():
        listed = installations.installed_installations(session, workspace_id, status_filter)
        assert len(listed) == number, label


def test_summary_of_an_empty_workspace_is_all_zeros(session, people):
    assert summary.app_summary(session, people["globex"].id) == summary.AppSummary()


def test_summary_is_one_query_that_never_reads_events(session, people):
    seed_mix(session, people)
    installation = make_installation(session, people["acme"], make_app(session, "logged"))
    for _ in range(5):
        record_event(session, installation, "installed", people["admin"].id)
    session.commit()
    workspace_id = people["acme"].id
    with statements() as seen:
        summary.app_summary(session, workspace_id)
    assert len(seen) == 1
    assert not [sql for sql in seen if "events" in sql.lower()]


def test_general_resources_are_those_without_an_app_in_order(session, people):
    app = make_app(session, "with-guide")
    session.add_all([
        LearningResource(title="Second", url="https://example.com/2", minutes=7, position=2),
        LearningResource(title="First", url="https://example.com/1", minutes=3, position=1),
        LearningResource(app_id=app.id, title="App guide", url="https://example.com/a", minutes=5),
    ])
    session.commit()
    assert [r.title for r in summary.general_resources(session)] == ["First", "Second"]


def test_discover_apps_are_those_not_installed_here_that_can_be_installed(session, people):
    acme = people["acme"]
    make_installation(session, acme, make_app(session, "installed-here"))
    make_installation(session, acme, make_app(session, "uninstalled-here"), state="uninstalled")
    make_installation(session, people["globex"], make_app(session, "installed-elsewhere"))
    make_app(session, "never-installed")
    make_app(session, "no-install-page", install_url=None)
    make_app(session, "blank-install-page", install_url="")
    session.commit()
    slugs = [app.slug for app in marketplace.discover_apps(session, acme.id)]
    assert slugs == ["installed-elsewhere", "never-installed", "uninstalled-here"]
    assert len(marketplace.discover_apps(session, acme.id, limit=2)) == 2
