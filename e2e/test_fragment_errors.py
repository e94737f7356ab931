"""A refusal answering an htmx request shows its message where the answer was to go."""
from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from e2e.flows import ADMIN, open_notifications_tab


def rule_row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def create_rule_for_all_apps(page: Page, name: str) -> None:
    page.get_by_role("button", name="Create new notification").click()
    page.get_by_label("Notification name").fill(name)
    page.get_by_label("Email", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("All apps").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Only super admins will be notified").check()
    page.get_by_role("button", name="Apply").click()
    expect(rule_row(page, name)).to_be_visible()


def test_a_notification_deleted_meanwhile_says_so_in_place_of_the_wizard(as_user):
    page = as_user(ADMIN)
    open_notifications_tab(page)
    name = f"Soon deleted {secrets.token_hex(3)}"
    create_rule_for_all_apps(page, name)

    other = page.context.new_page()  # the same admin, in a second tab, deletes it
    open_notifications_tab(other)
    other.once("dialog", lambda dialog: dialog.accept())
    row = rule_row(other, name)
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("button", name="Delete notification").click()
    expect(rule_row(other, name)).to_have_count(0)
    other.close()

    row = rule_row(page, name)
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("button", name="Manage notification").click()
    content = page.locator("#notifications-content")
    expect(content.get_by_role("alert")).to_contain_text("This notification does not exist.")
    # Only the tab's content changed: the page around it is still there, and not nested in it.
    expect(page.get_by_role("tab", name="Notifications")).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(1)
