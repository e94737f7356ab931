"""Logging out leaves no workspace data behind in the browser's htmx history cache (sessionStorage)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.flows import ADMIN, log_in

CACHE = "() => window.sessionStorage.getItem('htmx-history-cache')"


def test_logging_out_clears_the_pages_kept_for_the_back_button(page):
    # A login of its own: logging out ends the session, and the one other flows share must live on.
    log_in(page, ADMIN)
    page.goto("/settings/connected-apps/")
    page.get_by_label("Activity type").select_option(label="Installed")
    expect(page).to_have_url(re.compile(r"activity=installed"))
    page.wait_for_function("() => window.sessionStorage.getItem('htmx-history-cache') !== null")
    assert "App log" in page.evaluate(CACHE)

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.evaluate(CACHE) is None
