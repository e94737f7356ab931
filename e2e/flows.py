"""Steps a person takes in the console, shared by the flows. Elements are found by role and
accessible name, as people and assistive technology find them, so renaming one breaks a flow."""
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

COLUMNS = {"Activity": 1, "App": 2, "User": 3, "Date": 4, "Details": 5}


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


# --- the app lifecycle --------------------------------------------------------------------------

def my_name(page: Page) -> str:
    """The logged-in person's name as the top bar shows it ("Name · Workspace")."""
    return page.locator(".whoami").inner_text().split("·")[0].strip()


def find_in_marketplace(page: Page, app_name: str) -> Locator:
    """Top navigation > Marketplace, search for the app: its card."""
    page.goto("/settings/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marketplace").click()
    page.get_by_label("Search apps").press_sequentially(app_name)
    card = page.get_by_role("list", name="Apps").get_by_role("listitem").filter(
        has=page.get_by_role("link", name=app_name, exact=True))
    expect(card).to_have_count(1)
    return card


def install_from_marketplace(page: Page, app_name: str) -> None:
    """Marketplace > "Install" > dialog "Install" > the app's own page > consent "Connect app"."""
    card = find_in_marketplace(page, app_name)
    card.get_by_role("button", name="Install").click()
    dialog = page.get_by_role("dialog", name=app_name)
    expect(dialog).to_be_visible()
    dialog.get_by_role("link", name="Install").click()
    consent(page, app_name)


def consent(page: Page, app_name: str) -> None:
    """On the console's consent page for the app: "Connect app"."""
    expect(page.get_by_role("heading", name=f"Connect {app_name}")).to_be_visible()
    page.get_by_role("button", name="Connect app").click()


def open_app_page(page: Page, app_name: str) -> None:
    """Settings > Connected apps > My apps > the app's name."""
    page.goto("/settings/")
    open_connected_apps(page)
    page.get_by_role("tab", name="My apps").click()
    page.get_by_role("table").get_by_role("link", name=app_name, exact=True).click()
    expect(page.get_by_role("heading", name=app_name, level=1)).to_be_visible()


def scope_group(page: Page, title: str) -> Locator:
    return page.get_by_role("group", name=re.compile(rf"^{re.escape(title)}\b"))


def filter_log_by_app(page: Page, app_name: str) -> None:
    page.get_by_label("Apps", exact=True).select_option(label=app_name)
    expect_every_row(page, "App", app_name)


def expect_newest_event(page: Page, activity: str, user: str) -> None:
    row = log_rows(page).first
    expect(row.locator("td").nth(0)).to_have_text(exactly(activity))
    expect(row.locator("td").nth(2)).to_have_text(exactly(user))


def ensure_installed(page: Page, app_name: str) -> None:
    """Installs the app from the marketplace unless the workspace already has it installed."""
    card = find_in_marketplace(page, app_name)
    if card.get_by_role("button", name="Install").count():
        install_from_marketplace(page, app_name)


def uninstall(page: Page, app_name: str) -> None:
    open_app_page(page, app_name)
    page.get_by_role("button", name="Uninstall").click()
    page.get_by_role("dialog", name=f"Uninstall {app_name}?").get_by_role("button", name="Uninstall").click()
    expect(page.get_by_role("region", name="App status").get_by_text("Uninstalled")).to_be_visible()


# --- notifications ------------------------------------------------------------------------------

def open_notifications_tab(page: Page) -> None:
    page.goto("/settings/")
    open_connected_apps(page)
    page.get_by_role("tab", name="Notifications").click()
    expect(page.get_by_role("tab", name="Notifications")).to_have_attribute("aria-selected", "true")


def notification_center(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile(r"^Notification center"))


def unread_count(page: Page) -> int:
    text = notification_center(page).inner_text()
    digits = re.findall(r"\d+", text)
    return int(digits[-1]) if digits else 0
