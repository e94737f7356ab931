"""The demo catalogue's apps, served by `flask demo host`: every one installs by clicking, the
expired and disconnected ones reconnect, and an app made to fail on the control page shows Error
in the console until it recovers."""
from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from e2e.conftest import ROOT
from e2e.flows import SUPER_ADMIN, consent, find_in_marketplace, open_connected_apps

CATALOGUE = json.loads((ROOT / "webapp" / "data" / "demo_catalogue.json").read_text())["apps"]
APP_PAGE = re.compile(r"/settings/connected-apps/apps/[a-z0-9-]+$")


def expect_connected(page: Page, app: dict) -> None:
    """Back on the app's page in the console, which shows it connected."""
    expect(page).to_have_url(re.compile(rf"/settings/connected-apps/apps/{app['slug']}$"))
    expect(page.get_by_role("heading", name=app["name"], level=1)).to_be_visible()
    if app["install_level"] == "multi_account":  # no status of its own: its accounts instead
        expect(page.get_by_role("region", name="Manage connection")).to_be_visible()
    else:
        status = page.get_by_role("region", name="App status")
        expect(status.get_by_text("Connected", exact=True)).to_be_visible()


def test_every_catalogue_app_of_the_seed_installs_by_clicking(as_user, demo_apps):
    page = as_user(SUPER_ADMIN)
    installed, needs_a_plan = [], []
    for app in CATALOGUE:
        card = find_in_marketplace(page, app["name"])
        if card.get_by_role("button", name="Install").count() == 0:
            expect(card.get_by_text("Installed")).to_be_visible()
            continue
        card.get_by_role("button", name="Install").click()
        dialog = page.get_by_role("dialog", name=app["name"])
        dialog.get_by_role("link", name="Install").click()  # the app's own install page
        expect(page.get_by_role("heading", name=f"Connect {app['name']}")).to_be_visible()
        if page.get_by_role("button", name="Connect app").count() == 0:
            # Its required scopes need a higher plan: the consent page says which, and
            # "Cancel" goes back through the app to its listing.
            expect(page.get_by_role("alert")).to_contain_text("Enterprise plan")
            page.get_by_role("button", name="Cancel").click()
            expect(page).to_have_url(re.compile(rf"/marketplace/{app['slug']}$"))
            needs_a_plan.append(app["name"])
            continue
        consent(page, app["name"])
        expect_connected(page, app)
        installed.append(app["name"])
    assert needs_a_plan == ["Bastion Audit Trail"]
    assert len(installed) >= 10, installed  # the catalogue apps the seed had not installed
    for app in CATALOGUE:
        if app["name"] not in needs_a_plan:
            card = find_in_marketplace(page, app["name"])
            expect(card.get_by_role("button", name="Install")).to_have_count(0)


def test_expired_and_disconnected_apps_reconnect_by_clicking(as_user, demo_apps):
    page = as_user(SUPER_ADMIN)
    reconnected = []
    for status in ("Expired", "Disconnected"):
        page.goto("/settings/")
        open_connected_apps(page)
        page.get_by_role("tab", name="My apps").click()
        rows = page.get_by_role("table").locator("tbody tr").filter(
            has=page.locator("td:nth-child(2)", has_text=re.compile(rf"^\s*{status}\b")))
        names = [text.strip() for text in rows.locator("td:first-child").get_by_role("link")
                 .all_inner_texts()]
        for name in names:
            app = next(entry for entry in CATALOGUE if entry["name"] == name)
            page.goto(f"/settings/connected-apps/apps/{app['slug']}")
            page.get_by_role("region", name="App status").get_by_role("link", name="Reconnect").click()
            consent(page, name)
            expect_connected(page, app)
            reconnected.append(name)
    assert {"Ledgerleaf", "Invoice Otter"} <= set(reconnected)


def test_health_made_to_fail_shows_error_after_three_probes_and_recovery_resolves_it(
        as_user, console, demo_apps):
    page = as_user(SUPER_ADMIN)
    control = page.context.new_page()
    control.goto(demo_apps + "/")
    dealwright = control.get_by_role("region", name="Dealwright")
    dealwright.get_by_role("button", name="Make health fail").click()
    expect(control.get_by_role("status")).to_contain_text("now answers HTTP 503")
    for _ in range(3):
        console.cli("health", "probe", "--app", "dealwright")

    page.goto("/settings/connected-apps/apps/dealwright")
    status = page.get_by_role("region", name="App status")
    expect(status.get_by_text("Error", exact=True)).to_be_visible()
    expect(status.get_by_text("Health check failing: HTTP 503")).to_be_visible()

    control.get_by_role("region", name="Dealwright").get_by_role("button", name="Recover").click()
    expect(control.get_by_role("status")).to_contain_text("now answers HTTP 200")
    console.cli("health", "probe", "--app", "dealwright")
    page.reload()
    expect(status.get_by_text("Connected", exact=True)).to_be_visible()
    log = page.get_by_role("region", name="App log")
    expect(log.locator("tbody tr").first).to_contain_text("Resolved")
    control.close()
