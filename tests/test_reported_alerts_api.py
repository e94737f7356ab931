"""Apps report problems of their own installation: PUT opens or updates an alert, DELETE resolves
it; bad bodies are refused naming the field; another installation's alerts are out of reach."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from tests.api_support import issue_token
from tests.conftest import make_app
from webapp.database import utcnow
from webapp.models import Alert, Event, Installation, Token

URL = "/api/v1/installation/alerts"





@pytest.fixture
def crm(session, people):
    return make_app(session, "crm-sync", name="CRM Sync")


@pytest.fixture
def token(session, people, crm):
    return issue_token(session, people["acme"], crm, people["admin"])


def installation_of(session, app, workspace) -> Installation:
    session.expire_all()
    return session.scalar(select(Installation).where(Installation.app_id == app.id,
                                                     Installation.workspace_id == workspace.id))


def problem(response, status: int) -> dict:
    """The RFC 9457 body of a refusal, after checking its status and media type."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def log(session) -> list[tuple[str, bool, dict]]:
    session.expire_all()
    return [(e.activity, e.actor_app, e.details)
            for e in session.scalars(select(Event).order_by(Event.id)) if e.activity != "installed"]


def test_an_app_opens_updates_and_resolves_its_alert(api, token, session, people, crm):
    opened = api("PUT", f"{URL}/ticket-sync", token,
                 json={"title": "Ticket sync failing", "detail": "3 syncs failed"})
    assert opened.status_code == 201
    assert (opened.json["key"], opened.json["source"], opened.json["count"]) == (
        "ticket-sync", "app", 1)
    assert installation_of(session, crm, people["acme"]).status == "error"

    repeat = api("PUT", f"{URL}/ticket-sync", token,
                 json={"title": "Ticket sync failing", "detail": "5 syncs failed"})
    assert repeat.status_code == 200
    assert (repeat.json["count"], repeat.json["detail"]) == (2, "5 syncs failed")
    assert repeat.json["first_seen"] == opened.json["first_seen"]
    assert len(session.scalars(select(Alert)).all()) == 1

    resolved = api("DELETE", f"{URL}/ticket-sync", token)
    assert resolved.status_code == 204
    assert installation_of(session, crm, people["acme"]).status == "connected"
    why = {"reason": "Ticket sync failing", "source": "app", "key": "ticket-sync"}
    assert log(session) == [("error", True, why), ("resolved", True, why)]
    again = problem(api("DELETE", f"{URL}/ticket-sync", token), 404)
    assert again["type"].endswith("#not-found") and "ticket-sync" in again["detail"]


@pytest.mark.parametrize("body, field", [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": 42}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "Two\nlines"}, "title"),
    ({"title": "Bell \x07 inside"}, "title"),
    ({"title": "Fine", "detail": "y" * 2001}, "detail"),
    ({"title": "Fine", "detail": ["list"]}, "detail"),
    ({"title": "Fine", "severity": "high"}, "severity"),
])
def test_a_bad_body_is_refused_naming_the_field(api, token, session, body, field):
    body = problem(api("PUT", f"{URL}/sync", token, json=body), 400)
    assert body["type"].endswith("#bad-request") and body["field"] == field
    assert f"“{field}”" in body["detail"]
    assert session.scalar(select(Alert)) is None and log(session) == []


@pytest.mark.parametrize("kwargs", [{"data": "not json", "content_type": "application/json"},
                                    {"json": ["a", "list"]}, {"data": "title=x"}])
def test_a_body_that_is_no_json_object_is_refused(api, token, kwargs):
    assert "JSON object" in problem(api("PUT", f"{URL}/sync", token, **kwargs), 400)["detail"]


@pytest.mark.parametrize("key", ["Sync", "-sync", "a" * 65, "sync%20now", "account:li-42"])
def test_a_bad_key_is_refused(api, token, key):
    assert problem(api("PUT", f"{URL}/{key}", token, json={"title": "Sync failing"}),
                   400)["field"] == "key"


def test_another_installations_alert_is_not_found(api, token, session, people, crm):
    other_app = make_app(session, "desk", name="Desk")
    other_token = issue_token(session, people["acme"], other_app, people["admin"])
    globex_token = issue_token(session, people["globex"], crm, people["outsider"])
    assert api("PUT", f"{URL}/sync", token, json={"title": "Sync failing"}).status_code == 201
    assert problem(api("DELETE", f"{URL}/sync", other_token), 404)["field"] == "key"
    assert problem(api("DELETE", f"{URL}/sync", globex_token), 404)["field"] == "key"
    assert installation_of(session, crm, people["acme"]).status == "error"
    assert session.scalar(select(Alert.resolved_at)) is None


def test_only_a_valid_access_token_is_accepted(api, token, session):
    problem(api("PUT", f"{URL}/sync", json={"title": "x"}), 401)
    assert api("PUT", f"{URL}/sync", "not-a-token", json={"title": "x"}).status_code == 401
    session.scalar(select(Token)).revoked_at = utcnow()
    session.commit()
    assert api("PUT", f"{URL}/sync", token, json={"title": "x"}).status_code == 401


def test_any_install_level_may_report(api, session, people):
    notes = make_app(session, "notes", install_level="user")
    social = make_app(session, "social", install_level="multi_account")
    for app in (notes, social):
        raw = issue_token(session, people["acme"], app, people["user" if app is notes else "admin"])
        assert api("PUT", f"{URL}/sync", raw, json={"title": "Sync failing"}).status_code == 201


def test_reports_are_rate_limited_per_installation(api, token, session, people):
    other = issue_token(session, people["acme"], make_app(session, "desk"), people["admin"])
    statuses = [api("PUT", f"{URL}/sync", token, json={"title": "Sync failing"}).status_code
                for _ in range(61)]
    assert statuses[:2] == [201, 200] and set(statuses[2:60]) == {200} and statuses[60] == 429
    problem(api("DELETE", f"{URL}/sync", token), 429)
    assert api("PUT", f"{URL}/sync", other, json={"title": "Sync failing"}).status_code == 201
    assert session.scalar(select(Alert.count).where(Alert.installation_id == (
        select(Installation.id).join(Installation.app).where(Installation.app.has(slug="crm-sync"))
        .scalar_subquery()))) == 60


def test_an_account_in_error_is_an_alert_of_its_installation(api, session, people):
    social = make_app(session, "social-hub", name="Social Hub", install_level="multi_account")
    raw = issue_token(session, people["acme"], social, people["admin"])
    assert api("POST", "/api/v1/accounts", raw, json={
        "external_id": "li-42", "name": "Acme on LinkedIn", "status": "error"}).status_code == 201
    api("POST", "/api/v1/accounts", raw, json={"external_id": "tw-7", "name": "Acme on X"})
    opened = session.scalar(select(Alert))
    assert (opened.source, opened.key, opened.title) == (
        "app", "account:li-42", "Acme on LinkedIn: the app reports an error")
    assert opened.external_account_id is not None

    api("PATCH", "/api/v1/accounts/tw-7", raw, json={"status": "error"})
    api("PATCH", "/api/v1/accounts/li-42", raw, json={"status": "connected"})
    api("DELETE", "/api/v1/accounts/tw-7", raw)
    session.expire_all()
    assert session.scalars(select(Alert).where(Alert.resolved_at.is_(None))).all() == []
    assert [(activity, details["key"]) for activity, _, details in log(session)] == [
        ("error", "account:li-42"), ("error", "account:tw-7"), ("resolved", "account:li-42"),
        ("resolved", "account:tw-7")]
    assert all(actor_app for _, actor_app, _ in log(session))
