"""The route walk shared by the robustness tests: which URLs each rule gets, who visits them, and
what every answer must respect (no 500, no other workspace's data, CSRF or credentials, login).

Failures are collected and reported together, so one run lists every route that misbehaves.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from tests.conftest import Browser, FreshUserClient
from tests.security_world import ACME_APP_NAMES, ACME_PRIVATE, World, csrf_token_of
from webapp.extensions import db

WALKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JUNK = ("abc", "-1", "0", "9" * 30, "\x00", "x" * 3000, "<img src=x onerror=alert(1)>", "..",
        "ü%'\"; DROP TABLE users; --", " ")
# Names the views read from the query string or form, beyond those found in their source.
GENERIC_NAMES = ("activity", "user", "app", "from", "to", "cursor", "status", "q", "category", "page",
                 "key", "enabled", "step", "name", "next", "workspace", "decision", "nav", "rule_id")
OAUTH_NAMES = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
               "code_challenge_method", "grant_type", "code", "code_verifier", "refresh_token",
               "token", "token_type_hint", "client_secret")
FRAGMENT_TARGETS = ("app-log-table", "app-log-more", "my-apps-table", "marketplace-results",
                    "install-dialog-body", "notifications-content", "notification-list",
                    "notification-panel-body", "notification-count")

PUBLIC_ENDPOINTS = {"static", "health.healthz", "health.readyz", "oauth.metadata", "auth.login",
                    "auth.home", "api.openapi_document", "problems.index"}
# Called by programs, not browsers: no CSRF, but client credentials (OAuth) or a bearer token (API).
PROGRAM_ENDPOINTS = {"oauth.token", "oauth.revoke", "oauth.introspect"}


def is_api(endpoint: str) -> bool:
    return endpoint.startswith("api.") and endpoint != "api.openapi_document"


_NAME_READ = re.compile(r'(?:args|form)\.(?:get|getlist)\(\s*"(\w+)"|(?:args|form)\[\s*"(\w+)"\s*\]')


def names_read(view) -> set[str]:
    """Query/form keys read by the view's module and the webapp modules it uses (two levels)."""
    names: set[str] = set()
    seen: set[str] = set()

    def visit(module, depth):
        if module is None or module.__name__ in seen or not module.__name__.startswith("webapp"):
            return
        seen.add(module.__name__)
        try:
            source = inspect.getsource(module)
        except (OSError, TypeError):
            return
        names.update(name for pair in _NAME_READ.findall(source) for name in pair if name)
        names.update(getattr(module, "RAW_FIELDS", ()))
        if depth:
            for value in vars(module).values():
                if inspect.ismodule(value):
                    visit(value, depth - 1)
                elif inspect.isfunction(value) or inspect.isclass(value):
                    visit(inspect.getmodule(value), depth - 1)

    visit(inspect.getmodule(view), 2)
    return names


def path_values(world: World, endpoint: str, arg: str) -> list[str]:
    """Real Acme values first (the first one is used when another argument varies), then another
    workspace's, then missing, then junk."""
    ids = world.ids
    if arg == "slug":
        real = [*world.acme_slugs, world.listed_slug] if endpoint.startswith("marketplace") \
            else world.acme_slugs
        return [*real, world.globex_slug, "no-such-app", *JUNK]
    if arg == "key":
        return ["contact_sync", "no_such_setting", *JUNK]
    if arg == "grant_id":
        return [str(v) for v in (ids["grant"]["acme_user"], ids["grant"]["acme_admin"],
                                 ids["grant"]["globex"], ids["grant"]["globex_other"], 999999)] + [*JUNK]
    if arg == "rule_id":
        return [str(ids["rule"]["acme"]), str(ids["rule"]["globex"]), "999999", *JUNK]
    if arg == "notification_id":
        return [str(ids["notification"]["acme_user"]), str(ids["notification"]["acme_admin"]),
                str(ids["notification"]["globex"]), "999999", *JUNK]
    if arg == "external_id":
        return [world.external_id, "no-such-account", "a/b", *JUNK]
    if arg == "filename":
        return ["css/app.css", "../__init__.py", "no-such.css", *JUNK]
    raise AssertionError(f"no values for <{arg}> of {endpoint}: teach the walk about it")


def urls_for(world: World, rule) -> list[str]:
    """The rule's URLs: each argument in turn takes all its values, the others their first."""
    args = sorted(rule.arguments)
    values = {arg: path_values(world, rule.endpoint, arg) for arg in args}

    def build(chosen: dict) -> str:
        return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: quote(chosen[m.group(1)], safe=""), rule.rule)

    if not args:
        return [rule.rule]
    urls = []
    for arg in args:
        for value in values[arg]:
            url = build({**{a: values[a][0] for a in args}, arg: value})
            if url not in urls:
                urls.append(url)
    return urls


@dataclass
class Visitor:
    role: str
    browser: Browser
    bearer: str | None = None

    def request(self, method, url, csrf=True, headers=None, **kwargs):
        headers = dict(headers or {})
        if csrf and self.browser.csrf_token:
            headers["X-CSRFToken"] = self.browser.csrf_token
        if self.bearer and url.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.bearer}"
        try:
            return self.browser.client.open(url, method=method, headers=headers, **kwargs)
        except Exception as error:  # the test app propagates exceptions: report them as the 500 they are
            db.session.rollback()  # as the request's teardown would, outside the test's app context
            return Crash(f"{type(error).__name__}: {str(error)[:160]}")


class Crash:
    """Stands in for the 500 response a crashing view gives outside tests."""

    status_code = 500
    content_type = "text/plain"
    headers: dict = {}

    def __init__(self, message: str):
        self.message = message

    def get_data(self, as_text=False):
        return self.message

    def get_json(self, silent=False):
        return None


def visitor(role, app, people, browser, world) -> Visitor:
    if role == "anonymous":
        b = Browser(FreshUserClient(app, app.response_class, use_cookies=True))
        b.csrf_token = csrf_token_of(b.client.get("/login").get_data(as_text=True))
        return Visitor(role, b)
    bearer = {"admin": world.api_tokens["acme"], "outsider": world.api_tokens["globex"]}.get(role)
    return Visitor(role, browser(people[role]), bearer)


class Findings:
    def __init__(self):
        self.problems: list[str] = []

    def check(self, visitor: Visitor, rule, method: str, url: str, response, csrf=True,
              sent_nul: bool = False):
        where = f"{visitor.role} {method} {url[:120]!r}"
        body = response.get_data(as_text=True)
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{where}: {status} {body[:200] if isinstance(response, Crash) else ''}")
            return
        endpoint = rule.endpoint
        if "Access-Control-Allow-Origin" in response.headers:
            self.problems.append(f"{where}: CORS header {response.headers['Access-Control-Allow-Origin']}")
        if sent_nul or "%00" in url:
            if status != 400:  # refused before anything else, whoever asks
                self.problems.append(f"{where}: {status} for a NUL character, expected 400")
            return
        if not routes_to(rule, url.split(" ")[0].split("?")[0], method):
            if status != 404:  # the path's junk does not fit the rule's converter: no view runs
                self.problems.append(f"{where}: {status} for a path no route matches, expected 404")
            return
        if method != "GET" and not csrf and endpoint not in PROGRAM_ENDPOINTS and not is_api(endpoint):
            if status != 400:
                self.problems.append(f"{where} without CSRF token: {status}, expected 400")
            return
        if endpoint in PROGRAM_ENDPOINTS:  # a browser session is no client authentication
            self._check_program(where, status, response, body)
        elif visitor.role == "anonymous":
            self._check_anonymous(where, endpoint, status, response, body)
        if visitor.role == "outsider":
            leaked = [s for s in ACME_PRIVATE if s in body]
            if status in (403, 404):  # app names are public in the marketplace, not in refusals
                leaked += [s for s in ACME_APP_NAMES if s in body]
            if leaked:
                self.problems.append(f"{where}: outsider sees {leaked}")
        if is_api(endpoint) and visitor.bearer is None and status != 401:
            self.problems.append(f"{where}: API without a bearer token answered {status}, expected 401")

    def _check_program(self, where, status, response, body):
        # RFC 6749 5.2: 401 when credentials were tried in a header, else 400; a grant type the
        # server does not know is refused before the client is looked at.
        error = (response.get_json(silent=True) or {}).get("error")
        if status not in (400, 401) or error not in ("invalid_client", "unsupported_grant_type"):
            self.problems.append(f"{where}: {status} {body[:80]!r}, expected invalid_client")

    def _check_anonymous(self, where, endpoint, status, response, body):
        if endpoint in PUBLIC_ENDPOINTS:
            return
        if is_api(endpoint):
            if status != 401 or response.content_type != "application/problem+json":
                self.problems.append(f"{where}: {status} {response.content_type}, expected JSON 401")
        elif status != 302 or not response.headers.get("Location", "").startswith("/login"):
            self.problems.append(f"{where}: {status}, expected a redirect to /login")
        elif "Acme" in body or "acme" in body.replace("/login", ""):
            self.problems.append(f"{where}: anonymous response carries data")

    def still_logged_in(self, visitor: Visitor):
        """Guards the walk itself: a visitor logged out halfway would test nothing but redirects."""
        if visitor.role != "anonymous" and visitor.request("GET", "/settings/").status_code != 200:
            self.problems.append(f"{visitor.role} was logged out during the walk")

    def assert_none(self):
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


def routes_to(rule, path: str, method: str) -> bool:
    adapter = rule.map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method)
    except Exception:  # NotFound, MethodNotAllowed, RequestRedirect
        return False
    return endpoint == rule.endpoint


def rules_of(app):
    """Every rule and method; logging out comes last, so the visitor stays who they are."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule)):
        for method in WALKED_METHODS:
            if method in rule.methods:
                yield rule, method


def junk_query(names, value) -> str:
    return urlencode({name: value for name in sorted(names)})


def routes_elsewhere(app, url: str, method: str) -> bool:
    try:
        app.url_map.bind("localhost").match(url.split("?")[0], method)
    except Exception:
        return False
    return True
