"""Every status on screen is true: "Needs your attention" fixes what it lists, and each summary
number opens My apps on exactly the apps it counts."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.flows import (SUPER_ADMIN, consent, ensure_installed, exactly, expect_newest_event,
                       filter_log_by_app, log_rows, my_name, open_app_page, open_connected_apps,
                       summary_numbers, uninstall)

LABELS = ("Connected apps", "Disconnected", "Errors", "Updates available", "Upgrades available")


def attention_rows(page: Page, app_name: str):
    return page.get_by_role("region", name="Needs your attention").get_by_role("row").filter(
        has=page.get_by_role("link", name=app_name, exact=True))


def test_needs_your_attention_reconnects_an_app_that_disconnected_itself(as_user, sample_app):
    page: Page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    me = my_name(page)
    name = sample_app.name
    ensure_installed(page, name)

    # The app revokes its own refresh token ("Disconnect" in Sample Notes).
    page.goto(sample_app.url)
    page.get_by_role("region", name="Workspace demo").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("status").filter(has_text="Disconnected from demo")).to_be_visible()

    page.goto("/settings/")
    open_connected_apps(page)
    row = attention_rows(page, name)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(exactly("Disconnected: revoked by the app"))
    expect(row.get_by_role("cell").nth(2).locator("time")).to_be_visible()

    # Reconnect goes through the app's install page and the console's consent, back to the app.
    row.get_by_role("link", name="Reconnect").click()
    consent(page, name)
    expect(page.get_by_role("heading", name="Workspace demo")).to_be_visible()

    page.goto("/settings/")
    open_connected_apps(page)
    expect(attention_rows(page, name)).to_have_count(0)
    filter_log_by_app(page, name)
    expect_newest_event(page, "Reconnected", me)
    disconnected = log_rows(page).nth(1)
    expect(disconnected.locator("td").nth(0)).to_have_text(exactly("Disconnected"))
    expect(disconnected.locator("td").nth(2)).to_have_text(exactly(name))  # the app did it
    expect(disconnected.locator("td").nth(4)).to_have_text(exactly("Revoked by the app"))

    open_app_page(page, name)
    status = page.get_by_role("region", name="App status")
    expect(status.get_by_text("Connected", exact=True)).to_be_visible()
    uninstall(page, name)  # as the other flows of the run expect to find it


def test_each_summary_number_opens_my_apps_on_exactly_its_rows(as_user):
    page: Page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    open_connected_apps(page)
    numbers = summary_numbers(page)
    assert numbers["Connected apps"] > 0
    for label in LABELS:
        summary = page.get_by_role("region", name="App summary")
        entry = summary.locator("div").filter(has=page.locator("dt", has_text=exactly(label)))
        entry.get_by_role("link").click()

        expect(page.get_by_role("tab", name="My apps")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_label("Status", exact=True)).not_to_have_value("")
        rows = page.locator("#my-apps-table tbody tr")
        expect(rows).to_have_count(numbers[label])
        expect(rows.filter(has=page.get_by_role("link", name="Manage connection"))).to_have_count(0)

        page.go_back()
        expect(page.get_by_role("heading", name="App summary")).to_be_visible()
