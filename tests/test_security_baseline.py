"""The security baseline checked across the whole console: headers and a
CSP-compatible markup on every page, escaping of everything people type, sessions and redirects.
Role checks, workspace isolation and secrets: tests/test_security_access.py."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from tests.conftest import login_form_token, make_app, make_team, make_user
from tests.html import parse
from tests.html import text_of as shown_text
from tests.oauth.conftest import OAuthFlow, client_app  # noqa: F401  (fixture)
from tests.route_walk import rules_of, urls_for
from tests.security_world import build_world
from webapp.models import InAppNotification, NotificationRule
from webapp.services import lifecycle

WIZARD = "/settings/connected-apps/notifications/wizard"


def text_of(response) -> str:
    return response.get_data(as_text=True)


class Pages(list):
    def append(self, item):
        item[1].get_data()  # read at once: a streamed export holds its request context until read
        super().append(item)


def admin_pages(app, session, people, browser):
    """Every HTML page and fragment an admin can open, as (label, response)."""
    world = build_world(session, people)
    admin = browser(people["admin"])
    pages = Pages()
    for rule, method in rules_of(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        for url in urls_for(world, rule)[:5]:
            pages.append((url, admin.get(url)))
            for target in ("app-log-table", "app-log-more", "my-apps-table", "marketplace-results",
                           "install-dialog-body", "notifications-content", "notification-list"):
                pages.append((f"{url} #{target}", admin.get(url, htmx_target=target)))
    for step, extra in ((1, {}), (2, {"name": "Rule"}), (3, {"name": "Rule", "all_apps": "1"})):
        form = {"step": str(step), "nav": "next", "rule_type": "app_install", "frequency": "day",
                "channels": ["email"], **extra}
        pages.append((f"wizard after step {step}", admin.post(WIZARD, data=form,
                                                              htmx_target="notifications-content")))
    pages.append(("login", browser().client.get("/login")))
    pages.append(("404", admin.get("/settings/connected-apps/apps/no-such-app")))
    pages.append(("403", browser(people["user"]).get("/settings/connected-apps/notifications/new")))
    return [(label, r) for label, r in pages if r.content_type.startswith("text/html")]


# 2. Headers, cookies, and markup that the CSP does not break ---------------------------------

def test_every_html_page_sends_the_security_headers(app, session, people, browser):
    pages = admin_pages(app, session, people, browser)
    assert len(pages) > 60
    for label, response in pages:
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, label
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, label
        assert response.headers.get("X-Content-Type-Options") == "nosniff", label


def test_session_cookie_is_httponly_and_samesite_lax(app, people):
    client = app.test_client()
    token = login_form_token(client.get("/login"))
    response = client.post("/login", data={"email": "bob@acme.test", "password": "correct-horse-battery",
                                           "csrf_token": token})
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _attribute_problem(name: str, value: str) -> str | None:
    if name.startswith("on"):
        return "on*= handler"
    if name == "style":
        return "style= attribute"
    if name.startswith(("hx-on:", "hx-on-")) or name == "hx-on":
        return "hx-on"
    # Trigger filters ("keyup[key=='Enter']") and "js:" values need eval, which htmx is denied.
    if (name == "hx-trigger" and "[" in value) or name == "hx-vars" or (
            name == "hx-vals" and value.strip().lower().startswith(("js:", "javascript:"))):
        return "htmx needing eval"
    if name == "href" and value.strip().lower().startswith("javascript:"):
        return "javascript: link"
    return None


def csp_problems(label: str, html: str) -> list[str]:
    """What in a page's markup a strict CSP would block (inline script, handlers, styles, eval)."""
    problems = []
    for element in parse(html).find_all(True):
        if element.name == "script" and (element.get_text().strip() or not element.get("src")):
            problems.append(f"{label}: inline <script>")
        for name, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if what := _attribute_problem(name.lower(), value):
                problems.append(f"{label}: {what}: <{element.name} {name}={value[:60]!r}>")
    return problems


def test_no_page_needs_inline_script_styles_or_eval(app, session, people, browser):
    problems = []
    for label, response in admin_pages(app, session, people, browser):
        problems += csp_problems(label, text_of(response))
    assert not problems, "\n".join(sorted(set(problems)))


def test_no_demo_page_needs_inline_script_styles_or_eval(session, browser):
    """The demo workspace has every status, flag, alert and install level: each page state."""
    from webapp.models import App, Installation, User
    from webapp.services.demo import seed_demo

    seed_demo(session, event_count=50)
    urls = ["/settings/", "/settings/connected-apps/", "/settings/connected-apps/my-apps",
            "/settings/connected-apps/notifications", "/notifications", "/marketplace/"]
    urls += [f"/settings/connected-apps/apps/{slug}" for slug in session.scalars(
        select(App.slug).join(Installation, Installation.app_id == App.id))]
    urls += [f"/marketplace/{slug}" for slug in session.scalars(select(App.slug))]
    problems = []
    for email in ("admin@example.com", "user@example.com"):
        person = session.scalar(select(User).where(User.email == email))
        client = browser().sign_in(person)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
            problems += csp_problems(f"{email} {url}", text_of(response))
    assert not problems, "\n".join(sorted(set(problems)))


# 3. What people type is escaped everywhere it shows -------------------------------------------

XSS = "<img src=x onerror=alert(1)>"


def shown(html: str) -> str:
    """The page's text as people read it; what someone typed must never have become markup."""
    doc = parse(html)
    assert doc.find("img", src="x") is None, "markup typed by someone was rendered"
    fields = [i.get("value", "") for i in doc.find_all("input") if i.get("type") != "hidden"]
    return " ".join([shown_text(doc), *fields])


@pytest.fixture
def hostile(session, people):
    """Names typed by people (or apps' vendors) that try to inject markup, on every kind of object."""
    acme, admin = people["acme"], people["admin"]
    app = make_app(session, "hostile", name="App " + XSS, vendor="Vendor " + XSS,
                   description="Does " + XSS, category="Cat " + XSS, install_level="user",
                   sync_settings=[{"key": "k", "label": "Sync " + XSS, "default": True}])
    person = make_user(session, acme, "mallory@acme.test", "user", name="Mallory " + XSS)
    lifecycle.consent(session, acme, app, person, app.all_scopes)
    lifecycle.consent(session, acme, app, admin, app.all_scopes)
    team = make_team(session, acme, "Team " + XSS, [person])
    rule = NotificationRule(workspace_id=acme.id, name="Rule " + XSS, rule_type="app_install",
                            frequency="day", channels=["in_app"], audience="specific",
                            created_by_id=person.id)
    rule.apps, rule.users, rule.teams = [app], [person], [team]
    session.add(rule)
    session.add(InAppNotification(workspace_id=acme.id, user_id=admin.id, title="Notice " + XSS,
                                  body="Body " + XSS, link="/settings/connected-apps/"))
    session.commit()
    return app, rule


def test_names_people_typed_are_escaped_on_every_page(people, browser, hostile):
    app, rule = hostile
    admin = browser(people["admin"])
    pages = {
        "/settings/connected-apps/": ["App ", "Mallory "],
        "/settings/connected-apps/my-apps": ["App ", "Mallory "],
        f"/settings/connected-apps/apps/{app.slug}": ["App ", "Mallory ", "Sync "],
        "/marketplace/": ["App ", "Cat "],
        f"/marketplace/{app.slug}": ["App ", "Vendor ", "Does "],
        "/settings/": ["Team "],
        "/settings/connected-apps/notifications": ["Rule "],
        f"/settings/connected-apps/notifications/{rule.id}/manage": ["Rule "],
        "/notifications": ["Notice "],
    }
    for url, prefixes in pages.items():
        html = text_of(admin.get(url))
        assert XSS not in html, url
        for prefix in prefixes:
            assert prefix + XSS in shown(html), (url, prefix)  # shown as the text it is
    step3 = admin.post(WIZARD, data={"step": "2", "nav": "next", "name": "Rule " + XSS,
                                     "rule_type": "app_install", "frequency": "day",
                                     "channels": ["email"], "app_ids": [str(app.id)]})
    html = text_of(step3)
    assert XSS not in html and "Mallory " + XSS in shown(html) and "Team " + XSS in shown(html)
    step2 = text_of(admin.post(WIZARD, data={"step": "1", "nav": "next", "name": "New " + XSS,
                                            "rule_type": "app_install", "frequency": "day",
                                            "channels": ["email"]}))
    assert XSS not in step2 and "App " + XSS in shown(step2)


def test_the_consent_page_escapes_the_app_name(client_app, browser, people, session):  # noqa: F811
    client_app.name, client_app.vendor = "App " + XSS, "Vendor " + XSS
    session.commit()
    flow = OAuthFlow(client_app, browser(people["admin"]), people["admin"])
    html = text_of(flow.browser.get(flow.authorize_url()))
    assert XSS not in html and "App " + XSS in shown(html)


def test_the_csv_export_defuses_formulas_in_names(session, people, browser):
    acme = people["acme"]
    app = make_app(session, "formula", name="=HYPERLINK(\"http://evil\")", install_level="user")
    person = make_user(session, acme, "eve@acme.test", name="+SUM(1,2)")
    lifecycle.consent(session, acme, app, person, app.all_scopes)
    session.commit()
    csv_text = text_of(browser(people["admin"]).get("/settings/connected-apps/log.csv"))
    cells = [cell.strip('"') for line in csv_text.splitlines()[1:] for cell in line.split(",")]
    assert "HYPERLINK" in csv_text and "SUM(1" in csv_text
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_search_and_filter_input_is_escaped_when_echoed(people, browser):
    admin = browser(people["admin"])
    for url in (f"/marketplace/?q={XSS}", f"/settings/connected-apps/?from={XSS}&activity={XSS}",
                f"/login?next={XSS}"):
        html = text_of(admin.get(url) if "login" not in url else browser().client.get(url))
        assert XSS not in html, url


# Sessions and redirects ----------------------------------------------------------------------

def log_in(client, next_url: str):
    token = login_form_token(client.get("/login"))
    return client.post("/login?" + urlencode({"next": next_url}),
                       data={"email": "bob@acme.test", "password": "correct-horse-battery",
                             "csrf_token": token})


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example", "/\\evil.example",
                                      "/\t/evil.example", "/\r\n/evil.example", "/\n/evil.example",
                                      " //evil.example", "/\x0b/evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_the_site(app, people, next_url):
    client = app.test_client()
    response = log_in(client, next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings/connected-apps/"
    again = client.get("/login?" + urlencode({"next": next_url}))  # already logged in
    assert again.headers["Location"] == "/settings/connected-apps/"


def test_login_keeps_a_local_next_with_its_query(app, people):
    next_url = "/oauth/authorize?client_id=x&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
    assert log_in(app.test_client(), next_url).headers["Location"] == next_url


def test_a_deactivated_user_is_logged_out_at_their_next_request(session, people, browser):
    carol = browser(people["user"])
    people["user"].active = False
    session.commit()
    response = carol.get("/settings/connected-apps/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("field", ["install_url", "redirect_uris", "resources", "health_url"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x",
                                 "//evil.example/cb", "/relative"])
def test_manifests_cannot_plant_script_urls_in_links(session, people, field, url):
    from webapp.services.registration import ManifestError, register_app

    manifest = {"slug": "planted", "name": "Planted", "vendor": "V", "category": "Sales",
                "description": "D", "version": "1.0.0", "install_level": "account",
                "install_url": "https://app.example/install",
                "redirect_uris": ["https://app.example/cb"],
                "scopes": {"required": ["contacts.read"], "conditionally_required": [], "optional": []},
                "health_url": None, "webhook_url": None, "sync_settings": [], "resources": []}
    manifest[field] = {"redirect_uris": [url],
                       "resources": [{"title": "T", "url": url, "minutes": 1}]}.get(field, url)
    with pytest.raises(ManifestError):
        register_app(session, manifest)
