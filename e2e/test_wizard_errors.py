"""The wizard's server-side validation shows its messages next to the fields, in place."""
from __future__ import annotations

from playwright.sync_api import expect

from e2e.flows import ADMIN, open_notifications_tab


def test_next_with_nothing_entered_shows_the_errors_by_the_fields(as_user):
    page = as_user(ADMIN)
    open_notifications_tab(page)
    page.get_by_role("button", name="Create new notification").click()
    name = page.get_by_label("Notification name")
    expect(name).to_be_visible()

    page.get_by_role("button", name="Next").click()

    expect(page.get_by_text("Enter a notification name.")).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    name.fill("Fixed after the error")
    page.get_by_label("Email", exact=True).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("All apps")).to_be_visible()
