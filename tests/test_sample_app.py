"""The sample app (examples/sample_app) against a real console: both run as HTTP servers on free
ports, and a requests session plays the browser, clicking through install, consent, refresh,
re-authentication, disconnect and uninstall."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from testsupport.live_server import LiveServer
from tests.html import button, by_role, link, one, parse, region, text_of
from webapp.models import App, Event, Installation
from webapp.services import lifecycle
from webapp.services.registration import register_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "examples" / "sample_app"


def load_sample_module():
    spec = importlib.util.spec_from_file_location("sample_notes_app", SAMPLE_DIR / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def manifest(name: str, base_url: str) -> dict:
    data = json.loads((SAMPLE_DIR / name).read_text())
    data["install_url"] = f"{base_url}/install"
    data["redirect_uris"] = [f"{base_url}/callback"]
    return data


@pytest.fixture
def sample(console, session, people, tmp_path):
    """The sample app registered in the console and serving on its own port."""
    live = LiveServer()
    registration = register_app(session, manifest("manifest.json", live.url))
    session.commit()
    credentials = registration.as_json()
    module = load_sample_module()
    live.wsgi_app = module.create_app({
        "CONSOLE_URL": console, "CLIENT_ID": credentials["client_id"],
        "CLIENT_SECRET": credentials["client_secret"], "BASE_URL": live.url,
        "STATE_FILE": str(tmp_path / "tokens.json"), "SECRET_KEY": "sample-test-key"})
    live.credentials = (credentials["client_id"], credentials["client_secret"])
    live.state_file = tmp_path / "tokens.json"
    yield live
    live.stop()


def form_value(html: str, name: str) -> str:
    found = parse(html).find("input", attrs={"name": name})
    assert found is not None, f"no {name} in the page"
    return found["value"]


def codes(page) -> set[str]:
    """The scope names the sample app's page shows."""
    return {text_of(code) for code in parse(page).find_all("code")}


def logged_in(console: str, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{console}/login")
    response = browser.post(f"{console}/login", data={
        "email": email, "password": "correct-horse-battery",
        "csrf_token": form_value(page.text, "csrf_token")})
    assert response.status_code == 200 and button(response, "Log out")
    return browser


def consent(browser: requests.Session, consent_page: requests.Response) -> requests.Response:
    """Clicks "Connect app" on the console's consent page."""
    assert consent_page.status_code == 200, consent_page.text
    assert button(consent_page, "Connect app")
    return browser.post(consent_page.url, data={
        "csrf_token": form_value(consent_page.text, "csrf_token"), "decision": "connect"})


def click(browser: requests.Session, sample_page: requests.Response, action: str
          ) -> requests.Response:
    """Clicks one of the sample app's buttons (Refresh token, Check token, Disconnect)."""
    base = sample_page.url.split("/", 3)[:3]
    return browser.post("/".join(base) + f"/{action}", data={
        "csrf": form_value(sample_page.text, "csrf"), "workspace": "acme"})


def stored(sample) -> dict:
    return json.loads(sample.state_file.read_text())["acme"]


def introspect(console: str, sample, token: str) -> dict:
    response = requests.post(f"{console}/oauth/introspect", data={"token": token},
                             auth=sample.credentials, timeout=10)
    assert response.status_code == 200
    return response.json()


def events(session, activity: str) -> list[Event]:
    session.expire_all()
    return list(session.scalars(select(Event).where(Event.activity == activity)))


def installation(session) -> Installation:
    session.expire_all()
    return session.scalar(select(Installation).join(Installation.app)
                          .where(App.slug == "sample-notes"))


def install_from_marketplace(console: str, browser: requests.Session) -> requests.Response:
    """Marketplace card "Install" -> the listing in the dialog -> its "Install" -> the app's
    install page -> the console's consent page -> "Connect app" -> back in the sample app."""
    cards = browser.get(f"{console}/marketplace/")
    [card] = [item for item in by_role(region(cards, "Apps"), "listitem")
              if by_role(item, "link", "Sample Notes")]
    opens = button(card, "Install")["hx-get"]
    assert opens == "/marketplace/sample-notes"
    dialog = browser.get(f"{console}{opens}",
                         headers={"HX-Request": "true", "HX-Target": "install-dialog-body"})
    return consent(browser, browser.get(link(dialog, "Install")["href"]))


def test_install_refresh_check_and_disconnect(console, sample, session, people):
    admin = logged_in(console, people["admin"].email)
    page = install_from_marketplace(console, admin)
    assert page.url == f"{sample.url}/"
    assert "Connected to acme" in text_of(parse(page))
    assert {"contacts.read", "files.read"} <= codes(page)
    assert "Access token expires" in text_of(parse(page))
    assert installation(session).state == "installed"
    assert [e.actor_id for e in events(session, "installed")] == [people["admin"].id]

    first = stored(sample)
    page = click(admin, page, "refresh")
    assert "Token refreshed for acme." in text_of(parse(page))
    rotated = stored(sample)
    assert rotated["access_token"] != first["access_token"]
    assert rotated["refresh_token"] != first["refresh_token"]

    page = click(admin, page, "check")
    assert "Token is active" in text_of(parse(page))
    about = introspect(console, sample, rotated["access_token"])
    assert about["active"] is True
    assert (about["workspace"], about["app"]) == ("acme", "sample-notes")

    page = click(admin, page, "disconnect")
    assert "Disconnected from acme." in text_of(parse(page))
    assert "Not connected to any workspace yet" in text_of(parse(page))
    assert [e.actor_id for e in events(session, "disconnected")] == [None]
    assert installation(session).status == "disconnected"
    assert introspect(console, sample, rotated["access_token"]) == {"active": False}


def test_re_authenticate_for_a_new_version(console, sample, session, people):
    admin = logged_in(console, people["admin"].email)
    install_from_marketplace(console, admin)
    register_app(session, manifest("manifest-v2.json", sample.url))
    session.commit()
    assert installation(session).update_available is True

    app_page = admin.get(f"{console}/settings/connected-apps/apps/sample-notes")
    reauth = link(app_page, "Re-authenticate")["href"]
    assert reauth == f"{sample.url}/install?workspace=acme"
    consent_page = admin.get(reauth)
    [new] = [item for item in by_role(consent_page, "listitem") if text_of(item).endswith(" New")]
    assert text_of(new).startswith("contacts.write ")
    page = consent(admin, consent_page)
    assert "contacts.write" in codes(page)
    assert len(events(session, "reauthenticated")) == 1
    current = installation(session)
    assert "contacts.write" in current.granted_scopes and current.update_available is False


def test_uninstalling_in_the_console_makes_the_apps_token_inactive(console, sample, session, people):
    admin = logged_in(console, people["admin"].email)
    page = install_from_marketplace(console, admin)
    app_page = admin.get(f"{console}/settings/connected-apps/apps/sample-notes")
    uninstalled = admin.post(f"{console}/settings/connected-apps/apps/sample-notes/uninstall",
                             data={"csrf_token": form_value(app_page.text, "csrf_token")})
    assert text_of(one(uninstalled, "status")) == "Sample Notes was uninstalled."
    assert len(events(session, "uninstalled")) == 1
    page = click(admin, admin.get(page.url), "check")
    assert "Token is inactive" in text_of(parse(page))
    assert introspect(console, sample, stored(sample)["access_token"]) == {"active": False}

    page = consent(admin, admin.get(link(uninstalled, "Install again")["href"]))
    assert "Connected to acme" in text_of(parse(page))
    assert len(events(session, "reinstalled")) == 1
    assert introspect(console, sample, stored(sample)["access_token"])["active"] is True


def test_install_starts_a_fresh_pkce_request_each_time(console, sample):
    browser = requests.Session()
    first = browser.get(f"{sample.url}/install?workspace=acme", allow_redirects=False)
    second = browser.get(f"{sample.url}/install?workspace=acme", allow_redirects=False)
    one, two = (parse_qs(urlsplit(r.headers["Location"]).query) for r in (first, second))
    assert first.headers["Location"].startswith(f"{console}/oauth/authorize?")
    assert one["code_challenge_method"] == ["S256"] and one["workspace"] == ["acme"]
    assert one["redirect_uri"] == [f"{sample.url}/callback"]
    assert one["state"] != two["state"] and one["code_challenge"] != two["code_challenge"]


def test_the_callback_refuses_unknown_state_and_foreign_issuer(console, sample):
    browser = requests.Session()
    unknown = browser.get(f"{sample.url}/callback?code=x&state=forged&iss={console}")
    assert unknown.status_code == 400 and "unknown or reused state" in unknown.text
    started = browser.get(f"{sample.url}/install", allow_redirects=False)
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    foreign = browser.get(f"{sample.url}/callback?code=x&state={state}&iss=https://evil.example")
    assert foreign.status_code == 400 and "iss mismatch" in foreign.text
    reused = browser.get(f"{sample.url}/callback?code=x&state={state}&iss={console}")
    assert reused.status_code == 400


def test_cancel_on_the_consent_page_connects_nothing(console, sample, session, people):
    admin = logged_in(console, people["admin"].email)
    consent_page = admin.get(f"{sample.url}/install?workspace=acme")
    page = admin.post(consent_page.url, data={
        "csrf_token": form_value(consent_page.text, "csrf_token"), "decision": "cancel"})
    assert page.status_code == 400 and "Not connected" in page.text
    assert installation(session) is None
    assert not sample.state_file.exists()


def test_the_shipped_manifests_fit_the_professional_plan(session, people):
    first = register_app(session, json.loads((SAMPLE_DIR / "manifest.json").read_text()))
    assert (first.app.slug, first.app.name, first.app.vendor) == (
        "sample-notes", "Sample Notes", "Example Labs")
    lifecycle.consent(session, people["acme"], first.app, people["admin"], first.app.all_scopes)
    session.commit()
    assert installation(session).upgrade_available is False
    second = register_app(session, json.loads((SAMPLE_DIR / "manifest-v2.json").read_text()))
    session.commit()
    assert second.app.version == "1.1.0" and second.client_secret is None
    current = installation(session)
    assert current.update_available is True and current.upgrade_available is False
    assert lifecycle.scopes_for_reauthentication(session, current) == ["contacts.write"]
