"""The marketplace's active search narrows the catalogue and pushes the URL."""
from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import expect

from e2e.flows import SUPER_ADMIN


def test_searching_the_marketplace_narrows_the_results(as_user):
    page = as_user(SUPER_ADMIN)
    page.goto("/settings/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marketplace").click()
    expect(page.get_by_role("heading", name="Marketplace", level=1)).to_be_visible()
    cards = page.get_by_role("list", name="Apps").get_by_role("listitem")
    expect(cards.first).to_be_visible()
    everything = cards.count()
    assert everything >= 25
    wanted = cards.nth(everything // 2).get_by_role("heading").inner_text().strip()

    page.get_by_label("Search apps").press_sequentially(wanted)

    encoded = r"(\+|%20)".join(re.escape(quote(word)) for word in wanted.split(" "))
    expect(page).to_have_url(re.compile(rf"[?&]q={encoded}(&|$)"))
    expect(cards.get_by_role("link", name=wanted, exact=True)).to_be_visible()
    narrowed = cards.count()
    assert 0 < narrowed < everything
    expect(cards.filter(has_not_text=re.compile(re.escape(wanted), re.IGNORECASE))).to_have_count(0)
