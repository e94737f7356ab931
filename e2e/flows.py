"""Steps a person takes in the console, shared by the flows (accessible names from CONTRACT 5)."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

PASSWORD = "demo-password"
SUPER_ADMIN = "superadmin@example.com"
ADMIN = "admin@example.com"
USER = "user@example.com"


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Settings")).to_be_visible()


def open_connected_apps(page: Page) -> None:
    """Settings > Integrations > Connected apps, by clicking."""
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("group", name="Integrations").get_by_role("link", name="Connected apps").click()
    expect(page.get_by_role("heading", name="App summary")).to_be_visible()


def exactly(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def summary_numbers(page: Page) -> dict[str, int]:
    summary = page.get_by_role("region", name="App summary")
    numbers = {}
    for label in ("Connected apps", "Disconnected", "Errors", "Updates available", "Upgrades available"):
        entry = summary.locator("div").filter(has=page.locator("dt", has_text=exactly(label)))
        numbers[label] = int(entry.locator("dd").inner_text().strip())
    return numbers


# --- the app log ------------------------------------------------------------------------------

COLUMNS = {"Activity": 1, "App": 2, "User": 3, "Date": 4}


def log_rows(page: Page) -> Locator:
    """Rows of the app log that show an event (not the "Load more" or empty row)."""
    return page.locator("#app-log-table tbody tr").filter(has=page.locator("time"))


def log_cells(page: Page, column: str) -> Locator:
    return page.locator(f"#app-log-table tbody tr:has(time) > td:nth-child({COLUMNS[column]})")


def expect_every_row(page: Page, column: str, text: str) -> None:
    """At least one row, and every row shows `text` in `column` (waits for the swap)."""
    cells = log_cells(page, column)
    expect(cells.first).to_be_visible()
    expect(cells.filter(has_not_text=exactly(text))).to_have_count(0)


def expect_rows_between(page: Page, first_day: str, last_day: str) -> None:
    """Every row's time (ISO 8601 UTC) falls on a day from first_day to last_day inclusive."""
    page.wait_for_function(
        """([first, last]) => {
            const times = [...document.querySelectorAll('#app-log-table tbody tr time')]
                .map(t => t.getAttribute('datetime').slice(0, 10));
            return times.length > 0 && times.every(d => d >= first && d <= last);
        }""", arg=[first_day, last_day])


def table_rows(page: Page) -> list[list[str]]:
    """The log as shown: activity, app, user and the ISO time of each row."""
    return page.eval_on_selector_all(
        "#app-log-table tbody tr:has(time)",
        """rows => rows.map(r => {
            const cells = [...r.querySelectorAll('td')];
            return [cells[0].innerText.trim(), cells[1].innerText.trim(), cells[2].innerText.trim(),
                    r.querySelector('time').getAttribute('datetime')];
        })""")


def load_every_page(page: Page) -> None:
    more = page.get_by_role("button", name="Load more")
    while more.count():
        shown = log_rows(page).count()
        more.click()
        expect(log_rows(page)).not_to_have_count(shown)
