"""Every route of the console, walked with real, foreign, missing and junk input by every kind of
visitor: nothing answers 500, nothing leaks to another workspace, GET changes nothing, POST needs
its CSRF token (or, for programs, their credentials). See tests/route_walk.py for the rules.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.route_walk import (FRAGMENT_TARGETS, GENERIC_NAMES, JUNK, OAUTH_NAMES, WALKED_METHODS,
                              Findings, junk_query, names_read, routes_elsewhere, rules_of,
                              urls_for, visitor)
from tests.security_world import build_world, changed_tables, snapshot


@pytest.mark.parametrize("role", ["anonymous", "user", "admin", "outsider"])
def test_every_route_survives_real_foreign_missing_and_junk_input(app, session, people, browser, role):
    world = build_world(session, people)
    who = visitor(role, app, people, browser, world)
    findings = Findings()
    walk = list(rules_of(app))
    # GETs first, on the whole world; then the writes, which may take the world apart.
    for rule, method in [(r, m) for r, m in walk if m == "GET"]:
        names = set(GENERIC_NAMES) | names_read(app.view_functions[rule.endpoint])
        if rule.endpoint.startswith("oauth."):
            names |= set(OAUTH_NAMES)
        urls = urls_for(world, rule)
        before = snapshot()
        for url in urls:
            findings.check(who, rule, "GET", url, who.request("GET", url))
        # Views with the app log also answer its fragments, which parse the same junk apart.
        targets = (None, "app-log-table", "app-log-more") if "cursor" in names_read(
            app.view_functions[rule.endpoint]) else (None,)
        for value in JUNK:
            url = f"{urls[0]}?{junk_query(names, value)}"
            for target in targets:
                headers = {"HX-Request": "true", "HX-Target": target} if target else {}
                findings.check(who, rule, "GET", url, who.request("GET", url, headers=headers))
        for target in FRAGMENT_TARGETS:
            response = who.request("GET", urls[0], headers={"HX-Request": "true", "HX-Target": target})
            findings.check(who, rule, "GET", f"{urls[0]} (htmx {target})", response)
        if changed := changed_tables(before, snapshot()):
            findings.problems.append(f"{role} GET {rule.rule}: changed {changed}")
    for rule, method in [(r, m) for r, m in walk if m != "GET"]:
        if rule.endpoint == "auth.logout":
            findings.still_logged_in(who)
        names = set(GENERIC_NAMES) | names_read(app.view_functions[rule.endpoint])
        if rule.endpoint.startswith("oauth."):
            names |= set(OAUTH_NAMES)
        urls = urls_for(world, rule)
        for url in urls:
            response = who.request(method, url, csrf=False)
            findings.check(who, rule, method, url, response, csrf=False)
        for url in urls[1:]:
            findings.check(who, rule, method, url, who.request(method, url))
        for value in JUNK:
            form = {name: value for name in names}
            findings.check(who, rule, method, f"{urls[0]} form={value[:20]!r}",
                           who.request(method, urls[0], data=form), sent_nul="\x00" in value)
            findings.check(who, rule, method, f"{urls[0]} json={value[:20]!r}",
                           who.request(method, urls[0], json=form), sent_nul="\x00" in value)
    findings.assert_none()


def test_each_name_a_view_reads_survives_junk_alone(app, session, people, browser):
    """One junk parameter at a time, as an admin (who reaches furthest into every view), so an
    early 400 on one name does not hide a crash on the next."""
    world = build_world(session, people)
    who = visitor("admin", app, people, browser, world)
    findings = Findings()
    for rule, method in rules_of(app):
        if rule.endpoint == "auth.logout":
            findings.still_logged_in(who)
        names = sorted(names_read(app.view_functions[rule.endpoint]))
        if rule.endpoint.startswith("oauth."):
            names += OAUTH_NAMES
        url = urls_for(world, rule)[0]
        before = snapshot() if method == "GET" else None
        for name in names:
            for value in JUNK:
                if method == "GET":
                    target = f"{url}?{urlencode({name: value})}"
                    findings.check(who, rule, method, target, who.request(method, target))
                else:
                    findings.check(who, rule, method, f"{url} {name}={value[:20]!r}",
                                   who.request(method, url, data={name: value}),
                                   sent_nul="\x00" in value)
        if before is not None and (changed := changed_tables(before, snapshot())):
            findings.problems.append(f"GET {rule.rule} with junk: changed {changed}")
    findings.assert_none()


def test_a_method_a_route_does_not_allow_is_405(app, session, people, browser):
    world = build_world(session, people)
    admin = browser(people["admin"])
    for rule in app.url_map.iter_rules():
        url = urls_for(world, rule)[0]
        for method in set(WALKED_METHODS) - rule.methods:
            response = admin.client.open(url, method=method,
                                         headers={"X-CSRFToken": admin.csrf_token})
            # Another rule may own the method on the same path (e.g. GET and DELETE of a rule).
            if routes_elsewhere(app, url, method):
                assert response.status_code < 500, (method, url, response.status_code)
            else:
                assert response.status_code == 405, (method, url, response.status_code)
