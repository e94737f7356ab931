"""The example contacts API (examples/contacts_api) against a real console: it introspects every
request with its resource-server credentials, and what it serves shows up as the installation's
usage once folded. Then the sample app calling it, as `make run` wires them."""
from __future__ import annotations

import importlib.util
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.test_sample_app import (  # noqa: F401  (sample is a fixture)
    LiveServer, click, install_from_marketplace, logged_in, sample)
from tests.usage.test_counting import usage
from webapp.services.resource_servers import register_resource_server
from webapp.services.usage import hour_of, last_used

ROOT = Path(__file__).resolve().parents[2]


def load_contacts_api():
    spec = importlib.util.spec_from_file_location(
        "contacts_api_example", ROOT / "examples" / "contacts_api" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def contacts(console, session, redis):
    """The contacts API serving on its own port, registered as a resource server."""
    credentials = register_resource_server(session, "Contacts API").as_json()
    session.commit()
    api = load_contacts_api().create_app({
        "CONSOLE_URL": console, "RESOURCE_SERVER_ID": credentials["client_id"],
        "RESOURCE_SERVER_SECRET": credentials["client_secret"]})
    live = LiveServer(api)
    live.client = api.test_client()
    yield live
    live.stop()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_contacts_api_serves_what_the_token_allows_and_each_call_is_counted(
        contacts, flow, session, redis):
    read_only = flow.tokens(scope="contacts.read")["access_token"]
    api = contacts.client
    listing = api.get("/contacts", headers=bearer(read_only))
    assert listing.status_code == 200
    assert listing.get_json()["workspace"] == "acme"
    assert "Ada Lovelace" in [c["name"] for c in listing.get_json()["contacts"]]
    refused = api.post("/contacts", headers=bearer(read_only),
                       json={"name": "Alan Turing", "email": "alan@example.com"})
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]

    writer = flow.tokens(scope="contacts.read contacts.write")["access_token"]
    added = api.post("/contacts", headers=bearer(writer),
                     json={"name": "Alan Turing", "email": "alan@example.com"})
    assert added.status_code == 201
    names = [c["name"] for c in api.get("/contacts", headers=bearer(writer)).get_json()["contacts"]]
    assert names[-1] == "Alan Turing"

    # Four calls with a valid token; two needed contacts.read, one was served contacts.write
    # (the refused write needed a scope its token did not hold).
    assert usage(session, redis) == {("acme-sync", ""): 4, ("acme-sync", "contacts.read"): 2,
                                     ("acme-sync", "contacts.write"): 1}


def test_the_contacts_api_refuses_missing_and_dead_tokens_and_counts_nothing(
        contacts, flow, session, redis):
    api = contacts.client
    missing = api.get("/contacts")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == 'Bearer realm="contacts"'
    tokens = flow.tokens()
    flow.revoke(tokens["access_token"], hint="access_token")
    for token in (tokens["access_token"], tokens["refresh_token"], "made-up"):
        dead = api.get("/contacts", headers=bearer(token))
        assert dead.status_code == 401 and 'error="invalid_token"' in dead.headers["WWW-Authenticate"]
    assert usage(session, redis) == {}


def test_load_contacts_in_the_sample_app_is_usage_of_its_installation(
        console, sample, contacts, session, people, redis):
    from webapp.models import Installation

    started = datetime.now(timezone.utc)
    sample.wsgi_app.config["CONTACTS_API_URL"] = contacts.url
    admin = logged_in(console, people["admin"].email)
    page = install_from_marketplace(console, admin)
    loaded = admin.get(f"{sample.url}/contacts?workspace=acme")
    assert loaded.status_code == 200 and "Grace Hopper" in loaded.text
    assert "Load contacts" in admin.get(f"{sample.url}/").text
    # Sample Notes 1.0.0 was not granted contacts.write: the API refuses, the app says so.
    added = admin.post(f"{sample.url}/contacts", data={
        "csrf": re.search(r'name="csrf" value="([^"]+)"', loaded.text).group(1),
        "workspace": "acme", "name": "Alan Turing", "email": "alan@example.com"})
    assert "Contact not added: This needs the scope contacts.write." in added.text
    assert click(admin, page, "check").status_code == 200  # the app's own check is no API call
    assert usage(session, redis) == {("sample-notes", ""): 3, ("sample-notes", "contacts.read"): 2}
    installation = session.scalar(select(Installation))
    assert hour_of(started) <= last_used(session, installation) <= datetime.now(timezone.utc)


def test_the_sample_app_says_when_the_contacts_api_is_not_there(console, sample, session, people):
    sample.wsgi_app.config["CONTACTS_API_URL"] = "http://127.0.0.1:1"
    admin = logged_in(console, people["admin"].email)
    install_from_marketplace(console, admin)
    page = admin.get(f"{sample.url}/contacts?workspace=acme")
    assert page.status_code == 502 and "cannot be reached" in page.text
