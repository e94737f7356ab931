"""The app log's filters, history, pagination and CSV export, as an admin uses them."""
from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import Page, expect

from e2e.flows import (SUPER_ADMIN, expect_every_row, expect_rows_between, load_every_page, log_cells,
                       log_rows, open_connected_apps, table_rows)


@pytest.fixture
def overview(as_user) -> Page:
    page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    open_connected_apps(page)
    expect(log_rows(page)).to_have_count(50)
    return page


def newest(page: Page, column: str) -> str:
    return log_cells(page, column).first.inner_text().strip()


def people(page: Page) -> set[str]:
    """The names the "Users" filter offers: people, not the apps or the system that acted."""
    return {name.strip() for name in
            page.get_by_label("Users", exact=True).locator("option").all_inner_texts()}


def newest_by_someone(page: Page) -> str:
    users = [u.strip() for u in log_cells(page, "User").all_inner_texts()]
    return next(u for u in users if u in people(page))


def selected_value(page: Page, label: str) -> str:
    return page.get_by_label(label, exact=True).input_value()


def days(page: Page) -> tuple[str, str]:
    """A range of whole days (UTC) the first page covers: from its oldest row's day to its newest."""
    times = page.locator("#app-log-table tbody tr time")
    return (times.last.get_attribute("datetime")[:10], times.first.get_attribute("datetime")[:10])


def test_filtering_by_activity_type(overview: Page):
    page = overview
    activity = newest(page, "Activity")
    page.get_by_label("Activity type", exact=True).select_option(label=activity)
    code = selected_value(page, "Activity type")
    expect(page).to_have_url(re.compile(rf"[?&]activity={re.escape(code)}(&|$)"))
    expect_every_row(page, "Activity", activity)


def test_filtering_by_user(overview: Page):
    page = overview
    user = newest_by_someone(page)
    page.get_by_label("Users", exact=True).select_option(label=user)
    user_id = selected_value(page, "Users")
    expect(page).to_have_url(re.compile(rf"[?&]user={user_id}(&|$)"))
    expect_every_row(page, "User", user)


def test_filtering_by_app(overview: Page):
    page = overview
    app = newest(page, "App")
    page.get_by_label("Apps", exact=True).select_option(label=app)
    app_id = selected_value(page, "Apps")
    expect(page).to_have_url(re.compile(rf"[?&]app={app_id}(&|$)"))
    expect_every_row(page, "App", app)


def test_filtering_by_dates(overview: Page):
    page = overview
    first_day, last_day = days(page)
    page.get_by_label("From", exact=True).fill(first_day)
    expect(page).to_have_url(re.compile(rf"[?&]from={first_day}(&|$)"))
    expect_rows_between(page, first_day, "9999-12-31")
    page.get_by_label("To", exact=True).fill(last_day)
    expect(page).to_have_url(re.compile(rf"[?&]to={last_day}(&|$)"))
    expect_rows_between(page, first_day, last_day)
    page.get_by_label("To", exact=True).fill(first_day)
    expect(page).to_have_url(re.compile(rf"[?&]to={first_day}(&|$)"))
    expect_rows_between(page, first_day, first_day)


def test_filters_combine(overview: Page):
    page = overview
    app = newest(page, "App")
    page.get_by_label("Apps", exact=True).select_option(label=app)
    expect_every_row(page, "App", app)
    activity = newest(page, "Activity")
    page.get_by_label("Activity type", exact=True).select_option(label=activity)
    expect_every_row(page, "Activity", activity)
    user = newest(page, "User")
    by_a_person = user in people(page)
    if by_a_person:
        page.get_by_label("Users", exact=True).select_option(label=user)
    day = log_rows(page).first.locator("time").get_attribute("datetime")[:10]
    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("To", exact=True).fill(day)

    expect(page).to_have_url(re.compile(r"activity=.+"))
    for name, value in (("app", selected_value(page, "Apps")),
                        ("activity", selected_value(page, "Activity type")),
                        ("from", day), ("to", day)):
        expect(page).to_have_url(re.compile(rf"[?&]{name}={re.escape(value)}(&|$)"))
    expect_rows_between(page, day, day)
    expect_every_row(page, "App", app)
    expect_every_row(page, "Activity", activity)
    if by_a_person:
        expect_every_row(page, "User", user)

    # A reload (or a bookmark) of the pushed URL shows the same view.
    app_id, activity_code = selected_value(page, "Apps"), selected_value(page, "Activity type")
    page.reload()
    expect(page.get_by_label("Apps", exact=True)).to_have_value(app_id)
    expect(page.get_by_label("Activity type", exact=True)).to_have_value(activity_code)
    expect(page.get_by_label("From", exact=True)).to_have_value(day)
    expect(page.get_by_label("To", exact=True)).to_have_value(day)
    expect_rows_between(page, day, day)
    expect_every_row(page, "App", app)
    expect_every_row(page, "Activity", activity)


def test_from_after_to_is_explained_in_place(overview: Page):
    page = overview
    page.get_by_label("From", exact=True).fill("2026-11-20")
    page.get_by_label("To", exact=True).fill("2026-11-10")
    message = page.locator("#app-log-table").get_by_role("alert")
    expect(message).to_be_visible()
    expect(message).to_contain_text("From")
    expect(log_rows(page)).to_have_count(0)
    expect(page.get_by_role("heading", name="App summary")).to_be_visible()


def test_the_back_button_restores_the_previous_filter(overview: Page):
    page = overview
    activities = [a.strip() for a in log_cells(page, "Activity").all_inner_texts()]
    first = activities[0]
    second = next(a for a in activities if a != first)
    select = page.get_by_label("Activity type", exact=True)

    select.select_option(label=first)
    first_code = select.input_value()
    expect_every_row(page, "Activity", first)
    select.select_option(label=second)
    second_code = select.input_value()
    expect(page).to_have_url(re.compile(rf"activity={re.escape(second_code)}"))
    expect_every_row(page, "Activity", second)

    page.go_back()

    expect(page).to_have_url(re.compile(rf"activity={re.escape(first_code)}(&|$)"))
    expect(page.get_by_label("Activity type", exact=True)).to_have_value(first_code)
    expect_every_row(page, "Activity", first)

    page.go_back()

    expect(page).not_to_have_url(re.compile(r"activity="))
    expect(page.get_by_label("Activity type", exact=True)).to_have_value("")
    expect(log_rows(page)).to_have_count(50)


def test_load_more_appends_the_next_fifty(overview: Page):
    page = overview
    first_page = table_rows(page)
    page.get_by_role("button", name="Load more").click()
    expect(log_rows(page)).to_have_count(100)
    both = table_rows(page)
    assert both[:50] == first_page
    times = [row[3] for row in both]
    assert times == sorted(times, reverse=True), "newest first across pages"


def test_export_csv_has_exactly_the_filtered_rows(overview: Page, tmp_path):
    page = overview
    app = newest(page, "App")
    page.get_by_label("Apps", exact=True).select_option(label=app)
    expect_every_row(page, "App", app)
    load_every_page(page)
    shown = table_rows(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    path = tmp_path / "log.csv"
    download_info.value.save_as(path)

    with open(path, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[:4] == ["Activity", "App", "User", "Date"]
    assert [row[:4] for row in rows] == shown
