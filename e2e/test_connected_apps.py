"""An admin finds the Connected apps console by clicking, and its numbers add up."""
from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.flows import SUPER_ADMIN, exactly, log_cells, log_in, open_connected_apps, summary_numbers

# The README's picture is refreshed only when asked (UPDATE_SCREENSHOT=1), so that a test run
# leaves the working tree as it found it; otherwise the screenshot goes with the other artifacts.
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = (ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOT") == "1"
              else ROOT / "e2e" / "artifacts") / "screenshot-overview.png"


def test_an_admin_reaches_the_overview_from_settings(page: Page):
    log_in(page, SUPER_ADMIN)
    open_connected_apps(page)

    expect(page).to_have_url(re.compile(r"/settings/connected-apps/?$"))
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    for heading in ("App summary", "App log", "Learn more with Academy", "Discover apps"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Learn more with Academy").get_by_role("link").first).to_be_visible()
    discover = page.get_by_role("region", name="Discover apps").get_by_role("link").first
    expect(discover).to_have_attribute("href", re.compile(r"^/marketplace/"))
    expect(page.get_by_role("button", name="Load more")).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 900})
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_the_summary_agrees_with_my_apps(as_user):
    page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    open_connected_apps(page)
    numbers = summary_numbers(page)
    assert numbers["Connected apps"] > 0

    page.get_by_role("tab", name="My apps").click()
    expect(page.get_by_role("tab", name="My apps")).to_have_attribute("aria-selected", "true")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows.first).to_be_visible()
    # Multi-account apps have no status ("Manage connection" instead) and stay out of the summary.
    with_status = rows.filter(has_not=page.get_by_role("link", name="Manage connection"))
    status = "td:nth-child(2)"

    def counted(pattern: str):
        return with_status.filter(has=page.locator(status, has_text=re.compile(pattern)))

    expect(with_status).to_have_count(numbers["Connected apps"])
    expect(counted(r"\b(Disconnected|Expired)\b")).to_have_count(numbers["Disconnected"])
    expect(counted(r"\bError\b")).to_have_count(numbers["Errors"])
    expect(counted(r"Update available")).to_have_count(numbers["Updates available"])
    expect(counted(r"Upgrade available")).to_have_count(numbers["Upgrades available"])


def test_an_app_page_opens_from_my_apps(as_user):
    page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    open_connected_apps(page)
    page.get_by_role("tab", name="My apps").click()
    rows = page.get_by_role("table").locator("tbody tr")
    row = rows.filter(has_not=page.get_by_role("link", name="Manage connection")).first
    link = row.get_by_role("link").first
    name = link.inner_text().strip()

    link.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    for section in ("App status", "App log", "App access and permissions", "Learn more with Academy"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Authorized"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Requires upgrade"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Available after re-authentication"))).to_be_visible()
    # The log on an app page is this app's log, without an "Apps" filter.
    expect(page.get_by_label("Apps", exact=True)).to_have_count(0)
    cells = log_cells(page, "App")
    if cells.count():
        expect(cells.filter(has_not_text=exactly(name))).to_have_count(0)
