"""API usage from real calls: an API of the deployment checks Sample Notes' token, the usage is
folded, and the app page's chart and table, and My apps, show it."""
from __future__ import annotations

import json
import re
import time

import requests
from playwright.sync_api import Page, expect

from e2e.flows import SUPER_ADMIN, find_in_marketplace, install_from_marketplace, open_app_page, uninstall

CALLS = 4


def api_calls(console, sample_app, times: int) -> None:
    """A resource server registered now introspects the app's access token `times` times, as an
    API serving calls that need contacts.read does."""
    output = console.cli("resource-servers", "register", "Usage flow API", "--rotate-secret").stdout
    server = json.loads(output[output.index("{"):])
    token = sample_app.tokens()["demo"]["access_token"]
    for _ in range(times):
        answer = requests.post(f"{console.url}/oauth/introspect",
                               data={"token": token, "scope": "contacts.read"},
                               auth=(server["client_id"], server["client_secret"]), timeout=10)
        assert answer.status_code == 200 and answer.json()["active"] is True, answer.text


def calls_shown(page: Page) -> int:
    facts = page.get_by_role("region", name="API usage")
    entry = facts.locator("div").filter(has=page.locator("dt", has_text="Calls in the last 30 days"))
    return int(entry.locator("dd").inner_text().replace(",", ""))


def test_api_calls_show_in_the_usage_chart_table_and_my_apps(as_user, console, sample_app):
    page: Page = as_user(SUPER_ADMIN)
    name = sample_app.name
    # Other flows expect to find the app as they left it: installed only if it was.
    installed_here = find_in_marketplace(page, name).get_by_role("button", name="Install").count() > 0
    if installed_here:
        install_from_marketplace(page, name)
    open_app_page(page, name)
    before = calls_shown(page)  # other flows of this run may have made calls already

    api_calls(console, sample_app, CALLS)
    # The console's counter sends its counts to Redis within a moment of the calls; fold until
    # the fold has found them all (or give up after a few tries).
    for _ in range(5):
        console.cli("usage", "fold")
        page.reload()
        if calls_shown(page) >= before + CALLS:
            break
        time.sleep(0.5)

    usage = page.get_by_role("region", name="API usage")
    total = before + CALLS
    chart = usage.get_by_role("img", name=re.compile(r"^API calls per day, last 30 days"))
    expect(chart).to_be_visible()
    expect(chart).to_have_accessible_name(re.compile(rf"last 30 days: {total:,} in all\b"))
    assert calls_shown(page) == total
    expect(usage.locator("dd").filter(has_text=re.compile(r"^Today \d\d:00–\d\d:00$"))).to_have_count(1)

    usage.get_by_text("Calls per day as a table").click()
    table = usage.get_by_role("table", name="API calls per day")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(30)
    numbers = [int(text.replace(",", "")) for text in rows.locator("td").all_inner_texts()]
    assert sum(numbers) == total and numbers[0] >= CALLS  # today first
    # Each day with calls is one bar, titled with the day and the same number as its row.
    titles = chart.locator("rect title").all_text_contents()
    assert sorted(int(t.split(": ")[1].split()[0].replace(",", "")) for t in titles) == \
        sorted(n for n in numbers if n)

    scopes = usage.get_by_role("table", name="Last use per scope")
    read = scopes.get_by_role("row").filter(has=page.get_by_text("contacts.read", exact=True))
    expect(read.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^Today \d\d:00–\d\d:00"))

    # My apps: it was used today, so the Usage filter leaves it out.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="My apps").click()
    row = page.get_by_role("table").locator("tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True))
    expect(row.locator("td").nth(4)).to_have_text(re.compile(r"^Today \d\d:00–\d\d:00$"))
    page.get_by_label("Usage").select_option(label="Not used in 30 days")
    expect(page).to_have_url(re.compile(r"usage=30"))
    expect(page.get_by_role("status").filter(has_text="not used in 30 days")).to_be_visible()
    expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    if installed_here:
        uninstall(page, name)
