"""The test helper names things as a browser's accessibility tree does (for the cases the console uses)."""
import re

import pytest

from tests.html import (button, by_role, chosen, field, heading, is_full_page, link, names, one,
                        options, parse, region, table_rows, text_of)

PAGE = """<!doctype html><html><body>
<h1>Crm Sync</h1>
<section aria-labelledby="status-title"><h2 id="status-title">App status</h2>
  <button type="button">Turn off<span class="visually-hidden"> Contact sync</span></button>
  <button type="button" aria-label="Close">×</button>
  <button type="button" hidden>Secret</button>
  <a href="/x" class="button">Re-authenticate</a><a>Not a link</a>
</section>
<label for="app">App</label>
<select id="app" name="app_id"><option value="">All apps</option><option value="3" selected>Crm</option></select>
<label><input type="checkbox" name="app_ids" value="4"> Chat Ops</label>
<input type="submit" value="Apply">
<table><caption>App log</caption><thead><tr><th scope="col">App</th></tr></thead>
  <tbody><tr><td> Crm <span aria-hidden="true">!</span></td></tr></tbody></table>
</body></html>"""


def test_names_come_from_labels_aria_and_content_hidden_parts_left_out():
    page = parse(PAGE)
    assert names(page, "button") == ["Turn off Contact sync", "Close", "Apply"]
    assert link(page, "Re-authenticate")["href"] == "/x"
    assert names(page, "link") == ["Re-authenticate"]
    assert heading(page, "Crm Sync", level=1).name == "h1"
    assert button(region(page, "App status"), "Close").text == "×"
    assert field(page, "App")["name"] == "app_id"
    assert field(page, "Chat Ops")["value"] == "4"
    assert options(page, "App") == [("", "All apps", False), ("3", "Crm", True)]
    assert chosen(page, "App") == ["Crm"]
    assert table_rows(page, "App log") == [["Crm"]]
    assert is_full_page(page) and not is_full_page("<div>fragment</div>")
    assert by_role(page, "button", re.compile("^Turn")) == [page.find("button")]
    assert text_of(page.find("td")) == "Crm"


def test_one_fails_and_says_what_there_is():
    with pytest.raises(AssertionError, match=r"buttons here: \['Turn off Contact sync', 'Close', 'Apply'\]"):
        one(PAGE, "button", "Uninstall")
