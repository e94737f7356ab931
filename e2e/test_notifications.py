"""A rule made in the wizard sends an email and an in-app notice for a real uninstall."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from playwright.sync_api import Page, expect

from e2e.flows import (SUPER_ADMIN, USER, ensure_installed, log_in, notification_center,
                       open_notifications_tab, uninstall, unread_count)


def create_rule(page: Page, name: str, app_name: str) -> None:
    page.get_by_role("button", name="Create new notification").click()
    page.get_by_label("Notification name").fill(name)
    page.get_by_label("Notification type").select_option(label="App uninstall")
    page.get_by_label("Notification reminder").select_option(label="Once an hour")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("In-app", exact=True).check()
    page.get_by_role("button", name="Next").click()

    # Back keeps what was entered, then on again.
    expect(page.get_by_label(app_name, exact=True)).to_be_visible()
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Notification name")).to_have_value(name)
    expect(page.get_by_label("Notification type")).to_have_value("app_uninstall")
    expect(page.get_by_label("Email", exact=True)).to_be_checked()
    expect(page.get_by_label("In-app", exact=True)).to_be_checked()
    page.get_by_role("button", name="Next").click()

    page.get_by_label(app_name, exact=True).check()
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Only super admins will be notified").check()
    page.get_by_role("button", name="Apply").click()


def rule_row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def test_a_rule_from_the_wizard_delivers_an_uninstall_by_email_and_in_app(as_user, console, sample_app,
                                                                          smtp_sink, new_context):
    page: Page = as_user(SUPER_ADMIN)
    name = sample_app.name
    rule = f"Uninstalls of {name} {secrets.token_hex(3)}"
    ensure_installed(page, name)

    open_notifications_tab(page)
    create_rule(page, rule, name)
    row = rule_row(page, rule)
    expect(row).to_be_visible()
    expect(row).to_contain_text("App uninstall")
    expect(row).to_contain_text("Once an hour")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Email")
    expect(row).to_contain_text("In-app")
    expect(page).to_have_url(re.compile(r"/notifications/?$"))
    before = unread_count(page)

    uninstall(page, name)

    # Close the hour the uninstall happened in (whatever the workspace's zone), then deliver.
    after_window = datetime.now(timezone.utc) + timedelta(minutes=61)
    console.cli("notifications", "send-due", "--at", after_window.isoformat(timespec="seconds"))
    console.run_worker()

    email = smtp_sink.wait_for(lambda m, rcpts: rule in str(m["Subject"]) and SUPER_ADMIN in rcpts)
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert name in text
    assert "Uninstalled" in text or "uninstalled" in text
    assert email.get_body(preferencelist=("html",)) is not None

    page.reload()
    expect(notification_center(page)).to_contain_text(str(before + 1))
    assert unread_count(page) == before + 1
    notification_center(page).click()
    expect(page.get_by_role("button", name=re.compile(re.escape(rule))).first).to_be_visible()

    # A user who is not an admin sees the rule, and nothing to change it with.
    reader = new_context().new_page()
    log_in(reader, USER)
    open_notifications_tab(reader)
    expect(rule_row(reader, rule)).to_be_visible()
    expect(reader.get_by_role("button", name="Create new notification")).to_have_count(0)
    expect(reader.get_by_role("button", name="Actions")).to_have_count(0)
