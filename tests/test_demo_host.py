"""The demo apps' host (`flask demo host`) against a real console, both served on free ports: a
requests session plays the person clicking Install, Reconnect, Connect app and the control page's
buttons, and the console's own probes run as `flask health probe` does."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from sqlalchemy import select

from testsupport.live_server import LiveServer
from tests.html import button, by_role, link, parse, region, terms, text_of
from webapp.demo_host import create_host
from webapp.models import Alert, App, Event, ExternalAccount, Installation, Token
from webapp.services.demo import seed_demo
from webapp.services.health_probes import run_health_probes
from webapp.services.oauth.tokens import hash_secret

PASSWORD = "demo-password"
SUPER_ADMIN = "superadmin@example.com"


@pytest.fixture
def host(console, session, tmp_path):
    """The demo seed, pointing its apps at a host that serves them on its own port."""
    live = LiveServer()
    live.file = tmp_path / "demo_apps.json"
    seed_demo(session, event_count=40, apps_url=live.url, apps_file=str(live.file))
    live.wsgi_app = create_host({"CONSOLE_URL": console, "BASE_URL": live.url,
                                 "APPS_FILE": str(live.file), "SECRET_KEY": "demo-host-test",
                                 "HEALTH_DELAY": 1.0})
    yield live
    live.stop()


def kept(host) -> dict:
    return json.loads(host.file.read_text())


def logged_in(console: str, email: str = SUPER_ADMIN) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{console}/login")
    response = browser.post(f"{console}/login", data={
        "email": email, "password": PASSWORD,
        "csrf_token": parse(page).find("input", attrs={"name": "csrf_token"})["value"]})
    assert response.status_code == 200 and button(response, "Log out")
    return browser


def connect(browser: requests.Session, consent_page: requests.Response) -> requests.Response:
    """Clicks "Connect app" (or "Cancel") on the console's consent page."""
    return decide(browser, consent_page, "connect")


def decide(browser: requests.Session, consent_page: requests.Response, decision: str):
    assert consent_page.status_code == 200, consent_page.text
    assert button(consent_page, "Connect app")
    token = parse(consent_page).find("input", attrs={"name": "csrf_token"})["value"]
    return browser.post(consent_page.url, data={"csrf_token": token, "decision": decision})


def app_page(console: str, slug: str) -> str:
    return f"{console}/settings/connected-apps/apps/{slug}"


def status_of(page) -> str:
    """The status word (flags such as "Update available" follow it)."""
    return terms(region(page, "App status"))["Status"].split()[0]


def press(browser: requests.Session, host, within, name: str) -> requests.Response:
    """Clicks the control page's button `name` inside `within` (submits its form)."""
    found = button(within, name)
    form = found.find_parent("form")
    data = {field["name"]: field.get("value", "") for field in form.find_all("input")}
    if found.get("name"):
        data[found["name"]] = found.get("value", "")
    return browser.post(host.url + form["action"], data=data)


def control_section(page, app_name: str):
    return region(page, app_name)


def installation(session, slug: str) -> Installation:
    session.expire_all()
    return session.scalar(select(Installation).join(Installation.app).where(App.slug == slug))


def test_install_from_the_marketplace_goes_through_consent_and_back_to_the_app(
        console, host, session):
    browser = logged_in(console)
    listing = browser.get(f"{console}/marketplace/quoteloom")
    start = link(listing, "Install")["href"]
    assert start == f"{host.url}/quoteloom/install?workspace=demo"

    asked = browser.get(start, allow_redirects=False)
    request = parse_qs(urlsplit(asked.headers["Location"]).query)
    assert asked.headers["Location"].startswith(f"{console}/oauth/authorize?")
    assert request["code_challenge_method"] == ["S256"] and request["state"]
    assert request["redirect_uri"] == [f"{host.url}/quoteloom/callback"]

    back = connect(browser, browser.get(start))
    assert back.url == app_page(console, "quoteloom")
    assert status_of(back) == "Connected"
    [record] = kept(host)["connections"]["quoteloom"].values()
    assert (record["workspace"], record["user"]) == ("demo", SUPER_ADMIN)
    token = session.scalar(select(Token).where(
        Token.access_token_hash == hash_secret(record["access_token"])))
    assert token is not None and token.revoked_at is None
    assert [e.activity for e in session.scalars(select(Event).join(App, App.id == Event.app_id)
                                                 .where(App.slug == "quoteloom"))] == ["installed"]


def test_cancel_on_the_consent_page_comes_back_with_nothing_installed(console, host, session):
    browser = logged_in(console)
    back = decide(browser, browser.get(f"{host.url}/leadlark/install?workspace=demo"), "cancel")
    assert back.url == f"{console}/marketplace/leadlark" and back.status_code == 200
    assert installation(session, "leadlark") is None
    assert "leadlark" not in kept(host)["connections"]


@pytest.mark.parametrize("slug", ["ledgerleaf", "invoice-otter"])
def test_reconnect_of_an_expired_or_disconnected_app_goes_through_consent(
        console, host, session, slug):
    browser = logged_in(console)
    page = browser.get(app_page(console, slug))
    assert status_of(page) in ("Expired", "Disconnected")
    back = connect(browser, browser.get(link(region(page, "App status"), "Reconnect")["href"]))
    assert back.url == app_page(console, slug)
    assert status_of(back) == "Connected"
    assert "No open alerts." in text_of(region(back, "App status"))
    assert kept(host)["connections"][slug]
    assert installation(session, slug).status == "connected"


def test_a_multi_account_app_reports_its_accounts_once_connected(console, host, session):
    browser = logged_in(console)
    back = connect(browser, browser.get(f"{host.url}/reel-radar/install?workspace=demo"))
    assert back.url == app_page(console, "reel-radar")
    shown = text_of(region(back, "Manage connection"))
    assert "Demo Co on Reel Radar" in shown and "Demo Support on Reel Radar" in shown
    control = browser.get(host.url + "/")
    assert [row[:2] for row in _account_rows(control, "Reel Radar")] == [
        ["Demo Co on Reel Radar", "Connected"], ["Demo Support on Reel Radar", "Connected"]]


def _account_rows(page, app_name: str) -> list[list[str]]:
    table = by_role(control_section(page, app_name), "table", "Accounts")[0]
    return [[text_of(cell) for cell in row.find_all("td")] for row in table.find_all("tr")
            if row.find("td")]


def test_an_account_put_in_error_on_the_control_page_shows_in_the_console(console, host, session):
    browser = logged_in(console)
    control = browser.get(host.url + "/")
    done = press(browser, host, control_section(control, "Lanternfly Social"),
                 "Put Demo Co on Chirpr in error")
    assert "reported the account chirpr:demo-co error" in text_of(parse(done))
    session.expire_all()
    account = session.scalar(select(ExternalAccount).where(
        ExternalAccount.external_id == "chirpr:demo-co"))
    assert account.status == "error"
    page = browser.get(app_page(console, "lanternfly"))
    assert "Error" in text_of(region(page, "Manage connection"))


def test_making_health_fail_turns_the_app_to_error_after_three_probes_and_recover_resolves_it(
        console, host, session):
    browser = logged_in(console)
    control = browser.get(host.url + "/")
    done = press(browser, host, control_section(control, "Dealwright"), "Make health fail")
    assert "now answers HTTP 503" in text_of(parse(done))
    assert requests.get(f"{host.url}/dealwright/health").status_code == 503

    for round_ in range(3):
        assert installation(session, "dealwright").status == "connected", round_
        run_health_probes(session, allow_private=True, app_slug="dealwright")
    page = browser.get(app_page(console, "dealwright"))
    assert status_of(page) == "Error"
    assert "Health check failing: HTTP 503" in text_of(region(page, "App status"))

    done = press(browser, host, control_section(done, "Dealwright"), "Recover")
    assert "now answers HTTP 200" in text_of(parse(done))
    run_health_probes(session, allow_private=True, app_slug="dealwright")
    page = browser.get(app_page(console, "dealwright"))
    assert status_of(page) == "Connected"
    session.expire_all()
    last = session.scalar(select(Event).join(App, App.id == Event.app_id)
                          .where(App.slug == "dealwright").order_by(Event.id.desc()).limit(1))
    assert (last.activity, last.details["reason"]) == ("resolved", "Health check failing: HTTP 503")


def test_a_seeded_failing_app_stays_failing_until_recovered(console, host, session):
    """The seed left HelpHarbor's health endpoint failing: the probes keep finding it so."""
    run_health_probes(session, allow_private=True, app_slug="helpharbor")
    assert installation(session, "helpharbor").status == "error"
    browser = requests.Session()
    control = browser.get(host.url + "/")
    section = control_section(control, "HelpHarbor Desk")
    assert "answers HTTP 503" in text_of(section)
    press(browser, host, section, "Recover")
    run_health_probes(session, allow_private=True, app_slug="helpharbor")
    session.expire_all()
    open_health = session.scalars(select(Alert).where(
        Alert.source == "health", Alert.resolved_at.is_(None))).all()
    assert [a.installation.app.slug for a in open_health] == ["cohort-canvas"]
    assert installation(session, "helpharbor").status == "error", "its reported alert is open"


def test_a_health_endpoint_made_to_time_out_is_a_timed_out_probe(console, host, session):
    control = requests.get(host.url + "/")
    assert "does not answer in time" in text_of(control_section(control, "Cohort Canvas"))
    report = run_health_probes(session, allow_private=True, app_slug="cohort-canvas",
                               timeout=httpx.Timeout(0.3), deadline=0.5)
    assert report.failing == 1
    alert = session.scalar(select(Alert).where(Alert.source == "health",
                                               Alert.resolved_at.is_(None),
                                               Alert.title == "Health check failing: timed out"))
    assert alert.installation.app.slug == "cohort-canvas" and alert.count == 5


def test_reporting_and_resolving_an_alert_on_the_control_page(console, host, session):
    browser = logged_in(console)
    control = browser.get(host.url + "/")
    done = press(browser, host, control_section(control, "Rosterly"), "Report alert")
    assert "Rosterly reported “Sync is failing” to demo." in text_of(parse(done))
    page = browser.get(app_page(console, "rosterly"))
    assert status_of(page) == "Error"
    assert "Sync is failing" in text_of(region(page, "App status"))

    done = press(browser, host, control_section(done, "Rosterly"), "Resolve alert demo-sync")
    assert "said the problem “demo-sync” is over" in text_of(parse(done))
    assert status_of(browser.get(app_page(console, "rosterly"))) == "Connected"


def test_the_seeded_reported_alert_can_be_resolved_as_the_app(console, host, session):
    control = requests.Session()
    page = control.get(host.url + "/")
    press(control, host, control_section(page, "HelpHarbor Desk"), "Resolve alert ticket-sync")
    session.expire_all()
    assert not session.scalars(select(Alert).where(
        Alert.key == "ticket-sync", Alert.resolved_at.is_(None))).all()


def test_an_expired_access_token_is_refreshed_once_and_kept(console, host, session):
    with open(host.file) as handle:
        data = json.load(handle)
    record = data["connections"]["adanchor"]["demo"]
    old_refresh = record["refresh_token"]
    record["expires_at"] = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    host.file.write_text(json.dumps(data))

    control = requests.get(host.url + "/")  # lists AdAnchor's accounts, with its token
    assert len(_account_rows(control, "AdAnchor")) == 4
    fresh = kept(host)["connections"]["adanchor"]["demo"]
    assert fresh["refresh_token"] != old_refresh and fresh["access_token"] != record["access_token"]
    assert installation(session, "adanchor").status != "disconnected"
    requests.get(host.url + "/")
    assert kept(host)["connections"]["adanchor"]["demo"]["refresh_token"] == fresh["refresh_token"]


def test_disconnect_on_the_control_page_revokes_and_reconnect_restores(console, host, session):
    browser = logged_in(console)
    control = browser.get(host.url + "/")
    press(browser, host, control_section(control, "Metric Moth"), "Disconnect")
    page = browser.get(app_page(console, "metric-moth"))
    assert status_of(page) == "Disconnected"
    assert "metric-moth" not in kept(host)["connections"] or not kept(host)["connections"][
        "metric-moth"]
    back = connect(browser, browser.get(link(region(page, "App status"), "Reconnect")["href"]))
    assert status_of(back) == "Connected"


def test_the_host_refuses_what_it_did_not_start(console, host):
    browser = requests.Session()
    forged = browser.get(f"{host.url}/quoteloom/callback?code=x&state=forged&iss={console}")
    assert forged.status_code == 400 and "unknown or reused state" in forged.text
    started = browser.get(f"{host.url}/quoteloom/install", allow_redirects=False)
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    elsewhere = browser.get(f"{host.url}/quoteloom/callback?code=x&state={state}"
                            "&iss=https://evil.example")
    assert elsewhere.status_code == 400 and "iss mismatch" in elsewhere.text
    assert browser.get(f"{host.url}/no-such-app/health").status_code == 404
    assert browser.post(f"{host.url}/dealwright/health", data={"mode": "failing"}).status_code == 400
