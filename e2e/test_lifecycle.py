"""Sample Notes, a real OAuth client, installed, re-authenticated and uninstalled by clicking."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

from e2e.flows import (SUPER_ADMIN, consent, ensure_installed, expect_newest_event, filter_log_by_app,
                       install_from_marketplace, my_name, open_app_page, open_connected_apps,
                       scope_group, summary_numbers)

NEW_SCOPE = "contacts.write"  # what manifest-v2.json asks for beyond version 1


def introspect(console, sample_app, token: str) -> dict:
    response = requests.post(f"{console.url}/oauth/introspect", data={"token": token},
                             auth=(sample_app.client_id, sample_app.client_secret), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_install_reauthenticate_and_uninstall_the_sample_app(as_user, console, sample_app):
    page: Page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    me = my_name(page)
    name = sample_app.name
    # Another flow of this run may have installed (and uninstalled) it before: then it comes back.
    installed_before = page.request.get(f"/settings/connected-apps/apps/{sample_app.slug}").status == 200

    # Install: marketplace dialog, the app's own install page, consent, back to the app.
    install_from_marketplace(page, name)
    expect(page).to_have_url(re.compile(re.escape(sample_app.url)))
    expect(page.get_by_role("heading", name="Workspace demo")).to_be_visible()
    expect(page.get_by_text("contacts.read", exact=True)).to_be_visible()
    first_token = sample_app.tokens()["demo"]["access_token"]
    assert introspect(console, sample_app, first_token)["active"] is True

    page.goto("/settings/")
    open_connected_apps(page)
    filter_log_by_app(page, name)
    expect_newest_event(page, "Reinstalled" if installed_before else "Installed", me)
    page.get_by_role("tab", name="My apps").click()
    row = page.get_by_role("table").locator("tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True))
    expect(row.locator("td").nth(1)).to_contain_text("Connected")
    expect(row.locator("td").nth(3)).to_have_text(me)

    # A new version asks for one more scope: "Update available", then re-authenticate.
    console.cli("apps", "register", str(sample_app.manifest_v2_path))
    open_app_page(page, name)
    status = page.get_by_role("region", name="App status")
    expect(status.get_by_text("Update available")).to_be_visible()
    expect(scope_group(page, "Available after re-authentication").get_by_text(NEW_SCOPE, exact=True)).to_be_visible()
    expect(scope_group(page, "Authorized").get_by_text(NEW_SCOPE, exact=True)).to_have_count(0)

    page.get_by_role("link", name="Re-authenticate").click()
    expect(page.get_by_role("listitem").filter(has_text=NEW_SCOPE).get_by_text("New", exact=True)).to_be_visible()
    consent(page, name)
    expect(page).to_have_url(re.compile(re.escape(sample_app.url)))
    expect(page.get_by_text(NEW_SCOPE, exact=True)).to_be_visible()

    open_app_page(page, name)
    expect(scope_group(page, "Authorized").get_by_text(NEW_SCOPE, exact=True)).to_be_visible()
    expect(scope_group(page, "Available after re-authentication").get_by_text(NEW_SCOPE, exact=True)).to_have_count(0)
    expect(page.get_by_role("region", name="App status").get_by_text("Update available")).to_have_count(0)
    expect(page.get_by_role("link", name="Re-authenticate")).to_have_count(0)
    expect_newest_event(page, "Re-authenticated", me)
    token = sample_app.tokens()["demo"]["access_token"]
    assert introspect(console, sample_app, token)["active"] is True

    # Uninstall (confirmed): the log says so and every token of the installation is dead.
    page.get_by_role("button", name="Uninstall").click()
    dialog = page.get_by_role("dialog", name=f"Uninstall {name}?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Uninstall").click()
    expect(page.get_by_role("region", name="App status").get_by_text("Uninstalled")).to_be_visible()
    expect_newest_event(page, "Uninstalled", me)
    assert introspect(console, sample_app, token)["active"] is False
    assert introspect(console, sample_app, first_token)["active"] is False

    page.goto(sample_app.url)
    page.get_by_role("button", name="Check token").click()
    expect(page.get_by_role("status").filter(has_text="inactive")).to_be_visible()
    expect(page.get_by_text("Token is inactive")).to_be_visible()


def test_the_app_disconnects_itself_and_an_admin_reconnects_it(as_user, sample_app):
    page: Page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    me = my_name(page)
    name = sample_app.name
    ensure_installed(page, name)
    page.goto("/settings/")
    open_connected_apps(page)
    before = summary_numbers(page)

    # The app revokes its own refresh token ("Disconnect" in Sample Notes).
    page.goto(sample_app.url)
    page.get_by_role("region", name="Workspace demo").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("status").filter(has_text="Disconnected from demo")).to_be_visible()

    page.goto("/settings/")
    open_connected_apps(page)
    after = summary_numbers(page)
    assert after["Connected apps"] == before["Connected apps"]
    assert after["Disconnected"] == before["Disconnected"] + 1
    filter_log_by_app(page, name)
    expect_newest_event(page, "Disconnected", name)  # the app revoked its own token

    open_app_page(page, name)
    status = page.get_by_role("region", name="App status")
    expect(status.get_by_text("Disconnected", exact=True)).to_be_visible()
    status.get_by_role("link", name="Reconnect").click()
    consent(page, name)
    expect(page.get_by_role("heading", name="Workspace demo")).to_be_visible()

    open_app_page(page, name)
    expect(page.get_by_role("region", name="App status").get_by_text("Connected", exact=True)).to_be_visible()
    expect_newest_event(page, "Reconnected", me)
