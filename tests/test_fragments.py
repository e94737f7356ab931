"""Every element a page lets htmx target answers with its named block of the page, and only that.

An admin of a workspace with something of everything (installations of each kind, a log three pages
long, a notification rule, unread notifications) walks every page linked from the console; each
element with hx-get, hx-post or hx-delete is asked, with the headers htmx sends, for what it swaps
in, and the answers are swapped into the page to find the elements they bring (the next "Load
more", the wizard's next step).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from jinja2_fragments import BlockNotFoundError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.html import parse
from tests.htmx_crawl import HtmxRequest, htmx_requests, links, rendered, swapped
from tests.security_world import build_world
from webapp.models import App, Installation
from webapp.services.event_log import PAGE_SIZE
from webapp.services.events import record_event
from webapp.web import render_page_or_fragment, requested_block

START = "/settings/connected-apps/"
# Reached by the walk, or something stopped it early (each is an element id htmx targets).
EXPECTED_TARGETS = {"app-log-table", "app-log-more", "my-apps-table", "marketplace-results",
                    "install-dialog-body", "notifications-content", "notification-panel-body",
                    "notification-list", "notification-count"}
ORDER = {"get": 0, "post": 1, "put": 1, "patch": 1, "delete": 2}  # writes once everything is read


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


@pytest.fixture
def walker(app, session, people, browser):
    build_world(session, people)
    ledger = session.scalar(select(Installation).join(App).where(App.slug == "ledger-lynx"))
    moment = datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)
    for n in range(2 * PAGE_SIZE + 10):  # three pages: "Load more" twice
        record_event(session, ledger, "sync_on", people["admin"].id,
                     occurred_at=moment + timedelta(minutes=n))
    session.commit()
    return Walk(app, browser(people["admin"]))


class Walk:
    def __init__(self, app, admin):
        self.app, self.admin = app, admin
        self.pages: dict[str, tuple[str, object]] = {}  # url -> (template, document)
        self.problems: list[str] = []
        self.answered: set[str] = set()

    def page(self, url: str, fresh: bool = False):
        """The whole page at `url` (a GET without htmx): its template and its document."""
        if fresh or url not in self.pages:
            with rendered(self.app) as seen:
                response = self.admin.get(url)
            body = response.get_data(as_text=True)
            if response.status_code != 200 or not seen["pages"]:
                self.problems.append(f"GET {url}: {response.status_code}, no page rendered")
                self.pages[url] = (None, parse(""))
            else:
                self.pages[url] = (seen["pages"][0], parse(body))
        return self.pages[url]

    def send(self, request: HtmxRequest, page_url: str):
        headers = request.headers(page_url)
        if request.verb == "get":
            return self.admin.get(request.full_url, headers=headers)
        if request.verb == "delete":
            return self.admin.delete(request.url, headers=headers)
        return self.admin.post(request.url, data=MultiDict(request.data), headers=headers)

    def run(self):
        queue: list[tuple[HtmxRequest, str, object]] = []
        seen_urls, seen_requests = set(), set()

        def discover(document, page_url):
            for url in links(document):
                if url not in seen_urls:
                    seen_urls.add(url)
                    discover(self.page(url)[1], url)
            found, problems = htmx_requests(document)
            self.problems.extend(f"{page_url}: {p}" for p in problems)
            for request in found:
                if request not in seen_requests:
                    seen_requests.add(request)
                    queue.append((request, page_url, document))

        seen_urls.add(START)
        discover(self.page(START)[1], START)
        while queue:
            assert len(seen_requests) + len(seen_urls) < 500, "the walk does not end"
            queue.sort(key=lambda item: ORDER[item[0].verb])
            request, page_url, document = queue.pop(0)
            with rendered(self.app) as seen:
                response = self.send(request, page_url)
            body = response.get_data(as_text=True)
            self.answered.add(request.target_id)
            self.problems.extend(f"{request}: {p}" for p in self.check(request, response, body, seen))
            if 200 <= response.status_code < 500:  # htmx swaps every 4xx too
                discover(swapped(document, request, body), page_url)

    def check(self, request: HtmxRequest, response, body: str, seen) -> list[str]:
        status = response.status_code
        if request.verb == "delete":  # the element leaves the page: nothing to swap in
            return [] if status == 200 and not body.strip() else [f"{status}, {body[:80]!r}"]
        # A view answers bad filters (400) or a form's mistakes (422) with its own block.
        if status not in (200, 400, 422):
            return [f"answered {status}"]
        problems = []
        if seen["pages"] or len(seen["blocks"]) != 1:
            problems.append(f"rendered pages {seen['pages']} and blocks {seen['blocks']}, "
                            "not one block")
        whole = None
        if request.verb == "get":  # the same URL without htmx, as a reload would get it
            template, whole = self.page(request.full_url, fresh=True)
            if seen["blocks"] and seen["blocks"][0][0] != template:
                problems.append(f"block {seen['blocks'][0]} is not of the page's {template}")
        if any(mark in body for mark in ("<html", "<body", 'class="topbar"', '<main')):
            problems.append("the answer is the whole layout")
        if "HX-Target" not in response.headers.get("Vary", ""):
            problems.append(f"Vary is {response.headers.get('Vary')!r}")
        return problems + self.shape(request, body, whole)

    @staticmethod
    def shape(request: HtmxRequest, body: str, whole_page) -> list[str]:
        """The answer fits its swap, and is what the whole page at its URL shows there."""
        fragment = parse(body)
        top = fragment.find_all(recursive=False)
        own = fragment.find_all(id=request.target_id)
        if not squeeze(body):
            return ["the answer is empty"]
        if request.swap == "outerHTML":
            if any(element.name != request.target_tag for element in top):
                return [f"top-level {[e.name for e in top]} cannot replace a <{request.target_tag}>"]
            if any(element not in top for element in own):
                return ["the target's id is nested in the answer"]
        elif own:
            return ["the answer holds a copy of its own target"]
        whole = whole_page.find(id=request.target_id) if whole_page is not None else None
        if whole is None:  # a write, or a block shown only on request (the install dialog)
            return []
        if request.swap == "outerHTML":
            if squeeze(str(whole)) not in {squeeze(str(element)) for element in top}:
                return ["the answer differs from the target in the whole page"]
        elif squeeze(whole.decode_contents()) and squeeze(whole.decode_contents()) != squeeze(
                fragment.decode()):
            return ["the answer differs from the target's content in the whole page"]
        return []


def test_every_htmx_target_of_every_page_answers_with_its_block(walker):
    walker.run()
    assert not walker.problems, "\n".join(walker.problems)
    missing = {t for t in EXPECTED_TARGETS if t not in walker.answered}
    assert not missing, f"the walk never reached {missing}"
    assert any(t.startswith("rule-") for t in walker.answered)  # a notification's Delete


def test_a_fragment_naming_a_block_the_page_lacks_fails_on_every_request(app):
    fragments = {"my-apps-table": "my_apps_tabel"}
    for headers in ({}, {"HX-Request": "true", "HX-Target": "my-apps-table"},
                    {"HX-Request": "true", "HX-Target": "elsewhere"}):
        with app.test_request_context("/settings/connected-apps/my-apps", headers=headers):
            with pytest.raises(BlockNotFoundError, match="my_apps_tabel"):
                render_page_or_fragment("connected_apps/my_apps.html", fragments)


@pytest.mark.parametrize("headers, block", [
    ({}, None),
    ({"HX-Request": "true"}, None),
    ({"HX-Request": "true", "HX-Target": "elsewhere"}, None),
    ({"HX-Request": "true", "HX-Target": "my-apps-table"}, "my_apps_table"),
    ({"HX-Request": "true", "HX-Trigger": "my-apps-table"}, "my_apps_table"),
    ({"HX-Request": "true", "HX-Target": "my-apps-table", "HX-History-Restore-Request": "true"},
     None),
])
def test_the_targeted_element_chooses_the_block_and_a_history_restore_gets_the_page(
        app, headers, block):
    with app.test_request_context("/", headers=headers):
        assert requested_block({"my-apps-table": "my_apps_table"}) == block
