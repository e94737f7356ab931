"""Settings › Your account: a person logged in on two browsers logs the other one out."""
from __future__ import annotations

from playwright.sync_api import expect

from e2e.flows import PASSWORD, log_in

# A person of their own: ending sessions must not touch the logins other flows share.
EMAIL = "two-browsers@example.com"


def test_log_out_other_sessions_logs_the_other_browser_out(console, browser, base_url):
    console.cli("users", "create", EMAIL, "--role", "user", "--password", PASSWORD,
                "--name", "Two Browsers", "--workspace", "demo")
    desk = browser.new_context(base_url=base_url).new_page()
    phone = browser.new_context(base_url=base_url).new_page()
    try:
        log_in(desk, EMAIL)
        log_in(phone, EMAIL)
        desk.get_by_role("link", name="Settings").click()
        desk.get_by_role("link", name="Your account").click()
        sessions = desk.get_by_role("table", name="Active sessions")
        expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
        expect(sessions.get_by_text("This session")).to_have_count(1)

        desk.get_by_role("button", name="Log out other sessions").click()

        expect(desk.get_by_text("Other sessions logged out.")).to_be_visible()
        expect(sessions.get_by_role("row")).to_have_count(2)
        expect(desk.get_by_role("button", name="Log out other sessions")).to_be_disabled()
        phone.goto("/settings/connected-apps/")
        expect(phone.get_by_role("button", name="Log in")).to_be_visible()
        desk.goto("/settings/connected-apps/")
        expect(desk.get_by_role("heading", name="App summary")).to_be_visible()
    finally:
        desk.context.close()
        phone.context.close()
