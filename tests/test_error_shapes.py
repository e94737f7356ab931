"""Every 4xx of every route, in each form its asker reads: a person's browser gets the page with
the message, htmx gets only the message as a fragment (never the whole layout, which htmx would
nest inside the element it targets), and programs get problem+json under /api/ and /.well-known/,
or RFC 6749 error bodies from the OAuth token, revocation and introspection endpoints.

The cases (tests/error_cases.py) name each route's refusals (unknown id 404, wrong role 403, bad
input 400 or 422, wrong state 409); every route's wrong method (405 with Allow) and, for browser
writes, a missing CSRF token (400) come from walking the url_map, so a new route is covered or
this test says so.
"""
from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.error_cases import CASES, ONLY_METHOD_AND_CSRF
from tests.route_walk import routes_elsewhere, urls_for
from tests.security_world import _access_token, build_world, csrf_token_of
from webapp.models import App, Grant, Installation

PROBLEM_JSON = "application/problem+json"
OAUTH_ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _kind(path: str) -> str:
    if path in OAUTH_ENDPOINTS:
        return "oauth"
    if path.startswith(("/api/", "/.well-known/", "/oauth/")) and path != "/oauth/authorize":
        return "problem"
    return "people"


@dataclass
class Askers:
    """One client per visitor; each request is sent the way that visitor's software sends it."""

    clients: dict
    tokens: dict
    problems: list[str] = dataclasses.field(default_factory=list)

    def send(self, who, method, url, headers=None, csrf=True, **kwargs):
        browser = self.clients[who]
        headers = dict(headers or {})
        if csrf and browser.csrf_token:
            headers["X-CSRFToken"] = browser.csrf_token
        if who in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return browser.client.open(url, method=method, headers=headers, **kwargs)

    def check(self, who, method, url, status, message, field=None, target="main", csrf=True,
              allow=None, forms=("page", "fragment", "json"), headers=None, **kwargs):
        """The refusal in each of its forms; what is wrong is collected, not raised."""
        path = url.split("?")[0]
        headers_of = {"page": {}, "fragment": {"HX-Request": "true", "HX-Target": target},
                      "json": {"Accept": "application/json"}}
        for form in forms:
            response = self.send(who, method, url, {**(headers or {}), **headers_of[form]}, csrf,
                                 **kwargs)
            where = f"{who} {method} {url[:90]} ({form})"
            wrong = self._wrong(response, _kind(path), form, status, message, field, allow)
            if wrong:
                self.problems.append(f"{where}: {wrong}")

    @staticmethod
    def _wrong(response, kind, form, status, message, field, allow) -> str | None:
        body = response.get_data(as_text=True)
        if response.status_code != status:
            return f"{response.status_code}, expected {status}: {body[:120]!r}"
        if allow is not None and set(response.headers.get("Allow", "").split(", ")) != allow:
            return f"Allow {response.headers.get('Allow')!r}, expected {sorted(allow)}"
        if kind == "oauth":  # RFC 6749 5.2, whoever asks
            data = response.get_json(silent=True) or {}
            if not data.get("error") or message not in f"{data.get('error')} {data.get('error_description')}":
                return f"not an RFC 6749 error naming {message!r}: {body[:120]!r}"
            return None
        if kind == "problem":  # the path decides: htmx or a browser asking changes nothing
            data = response.get_json(silent=True) or {}
            if response.content_type != PROBLEM_JSON:
                return f"content type {response.content_type}, expected {PROBLEM_JSON}"
            if {"type", "title", "status", "detail"} - set(data) or data["status"] != status:
                return f"not a problem for {status}: {data}"
            if message not in data["detail"] or data.get("field") != field:
                return f"detail/field {data.get('detail')!r}/{data.get('field')!r}, expected " \
                       f"{message!r}/{field!r}"
            if "/problems#" not in data["type"]:
                return f"type {data['type']!r} does not point at the problems page"
            return None
        if "text/html" not in response.content_type:
            return f"content type {response.content_type}, expected HTML"
        if message not in html.unescape(body) or 'role="alert"' not in body:
            return f"no alert with {message!r}: {body[:160]!r}"
        whole_page = "<html" in body and 'id="main"' in body
        if form == "fragment" and whole_page:
            return "htmx got the whole layout, not a fragment"
        if form != "fragment" and not whole_page:
            return "a browser got a fragment, not the page"
        return None


@pytest.fixture
def askers(app, session, people, browser):
    world = build_world(session, people)
    ledger_grant = session.scalar(select(Grant).join(Installation).join(App).where(
        App.slug == "ledger-lynx"))
    plain_token = _access_token(session, ledger_grant)
    session.commit()
    anonymous = browser()
    anonymous.csrf_token = csrf_token_of(anonymous.client.get("/login").get_data(as_text=True))
    clients = {"admin": browser(people["admin"]), "user": browser(people["user"]),
               "anonymous": anonymous, "app": anonymous, "plain_app": anonymous}
    yield world, Askers(clients, {"app": world.api_tokens["acme"], "plain_app": plain_token})


def test_each_routes_refusals_come_in_each_form_with_their_message(app, session, askers):
    world, ask = askers
    for case in CASES:
        if case.setup:
            case.setup(session, world)
        url = case.url(world) if callable(case.url) else case.url
        kwargs = {"data": case.form} if case.form is not None else {}
        if case.json is not None:
            kwargs = {"json": case.json}
        ask.check(case.who, case.method, url, case.status, case.message, case.field, case.target,
                  forms=case.forms, headers=case.headers, **kwargs)
    covered = {case.endpoint for case in CASES} | ONLY_METHOD_AND_CSRF
    unnamed = {rule.endpoint for rule in app.url_map.iter_rules()} - covered
    assert not unnamed, f"name the 4xx of {sorted(unnamed)} here (or in ONLY_METHOD_AND_CSRF)"
    assert not ask.problems, f"{len(ask.problems)} problems:\n" + "\n".join(ask.problems)


def test_every_route_answers_a_wrong_method_with_405_and_allow_in_each_form(app, askers):
    world, ask = askers
    for rule in app.url_map.iter_rules():
        url = urls_for(world, rule)[0]
        allowed = {method for method in METHODS if routes_elsewhere(app, url, method)}
        for method in sorted(set(METHODS) - allowed):
            ask.check("admin", method, url, 405, "The method is not allowed",
                      allow=allowed | {"HEAD", "OPTIONS"} if "GET" in allowed else allowed | {"OPTIONS"})
    assert not ask.problems, f"{len(ask.problems)} problems:\n" + "\n".join(ask.problems)


def test_every_browser_write_without_its_csrf_token_is_400_in_each_form(app, askers):
    world, ask = askers
    for rule in app.url_map.iter_rules():
        url = urls_for(world, rule)[0]
        for method in sorted(rule.methods & {"POST", "PATCH", "DELETE"}):
            if _kind(url.split("?")[0]) == "people":
                ask.check("admin", method, url, 400, "The CSRF token is missing.", csrf=False)
    assert not ask.problems, f"{len(ask.problems)} problems:\n" + "\n".join(ask.problems)


def test_unknown_urls_are_404_in_the_form_of_their_prefix(askers):
    _, ask = askers
    for url in ("/no-such-page", "/api/v1/no-such-thing", "/oauth/no-such-endpoint",
                "/.well-known/no-such-document"):
        ask.check("admin", "GET", url, 404, "not found on the server")
    assert not ask.problems, f"{len(ask.problems)} problems:\n" + "\n".join(ask.problems)


def test_too_many_failed_logins_are_429_with_a_message(askers, people):
    _, ask = askers
    login = {"email": people["admin"].email, "password": "wrong"}
    for _ in range(5):
        ask.send("anonymous", "POST", "/login", data=login)
    # Even the right password waits: the login form says so in place, htmx gets the fragment.
    for data in (login, {**login, "password": PASSWORD}):
        ask.check("anonymous", "POST", "/login", 429, "Too many", data=data)
    assert not ask.problems, f"{len(ask.problems)} problems:\n" + "\n".join(ask.problems)


def test_each_problem_type_is_described_on_the_problems_page(app, askers):
    _, ask = askers
    page = ask.send("anonymous", "GET", "/problems").get_data(as_text=True)
    response = ask.send("anonymous", "GET", "/api/v1/accounts")
    anchor = response.get_json()["type"].split("#")[1]
    assert f'id="{anchor}"' in page and "401 · Unauthorized" in page
    for kind in ("bad-request", "validation-failed", "not-found", "forbidden", "conflict",
                 "method-not-allowed", "too-many-requests"):
        assert f'id="{kind}"' in page


def test_a_refusal_in_a_fragment_goes_inside_the_element_htmx_targets(askers):
    """An outerHTML swap would replace the element, and the next request would find no target."""
    _, ask = askers
    response = ask.send("admin", "GET", "/marketplace/?category=Nope",
                        {"HX-Request": "true", "HX-Target": "marketplace-results"})
    assert response.status_code == 400 and response.headers["HX-Reswap"] == "innerHTML"
    assert "HX-Request" in response.headers["Vary"]
    page = ask.send("admin", "GET", "/marketplace/?category=Nope")
    assert "HX-Reswap" not in page.headers and "HX-Request" in page.headers["Vary"]
