"""Counting API calls: a resource server's introspections of active access tokens, per
installation and per scope the call needs; nothing else counts, and Redis failing changes nothing
for the caller."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from redis import Redis
from sqlalchemy import select

from tests.oauth.conftest import SECRET
from webapp.models import Installation, Token, UsageHourly
from webapp.services.usage import count_api_call, fold_usage

NOW = datetime(2026, 11, 30, 10, 15, tzinfo=timezone.utc)


def usage(session, redis) -> dict[tuple[str, str], int]:
    """Everything counted so far, folded: {(app slug, scope): calls}."""
    fold_usage(session, redis, datetime.now(timezone.utc))
    rows = session.execute(select(Installation, UsageHourly).join(
        UsageHourly, UsageHourly.installation_id == Installation.id))
    totals: dict[tuple[str, str], int] = {}
    for installation, row in rows:
        key = (installation.app.slug, row.scope)
        totals[key] = totals.get(key, 0) + row.calls
    return totals


def test_each_introspection_by_a_resource_server_is_one_call_of_the_installation(
        flow, contacts_api, session, redis):
    token = flow.tokens()["access_token"]
    for _ in range(3):
        response = contacts_api.introspect(token)
        assert response.status_code == 200 and response.get_json()["active"] is True
    assert usage(session, redis) == {("acme-sync", ""): 3}


def test_the_scope_parameter_counts_each_scope_the_token_holds(flow, contacts_api, session, redis):
    token = flow.tokens(scope="contacts.read contacts.write")["access_token"]
    contacts_api.introspect(token, scope="contacts.read")
    contacts_api.introspect(token, scope="contacts.read contacts.write")
    # audit_logs.read is not granted, and a scope named twice is one need.
    body = contacts_api.introspect(token, scope="contacts.write audit_logs.read contacts.write")
    assert body.get_json()["scope"] == "contacts.read contacts.write"
    assert usage(session, redis) == {("acme-sync", ""): 3, ("acme-sync", "contacts.read"): 2,
                                     ("acme-sync", "contacts.write"): 2}


def test_a_resource_server_may_introspect_tokens_of_any_app(
        flow, other_client, contacts_api, browser, people, session, redis):
    from tests.oauth.conftest import OTHER_SECRET, OAuthFlow, basic_auth

    rival = OAuthFlow(other_client, browser(people["admin"]), people["admin"])
    rival_token = rival.exchange(
        rival.code(redirect_uri="https://rival.example/cb", scope="contacts.read"),
        redirect_uri="https://rival.example/cb",
        headers=basic_auth(other_client.client_id, OTHER_SECRET)).get_json()["access_token"]
    body = contacts_api.introspect(rival_token).get_json()
    assert (body["active"], body["app"]) == (True, "rival")
    contacts_api.introspect(flow.tokens()["access_token"])
    assert usage(session, redis) == {("rival", ""): 1, ("acme-sync", ""): 1}


def test_an_apps_introspection_of_its_own_token_is_not_an_api_call(flow, contacts_api, session,
                                                                   redis):
    token = flow.tokens()["access_token"]
    assert flow.introspect(token).get_json()["active"] is True
    assert usage(session, redis) == {}


def test_inactive_tokens_are_not_counted(flow, contacts_api, session, redis):
    tokens = flow.tokens()
    assert contacts_api.introspect("not-a-token", scope="contacts.read").get_json() == {
        "active": False}
    # A refresh token is no API credential: shown as it is, not counted as a call.
    assert contacts_api.introspect(tokens["refresh_token"]).get_json()["active"] is True
    flow.revoke(tokens["access_token"], hint="access_token")
    assert contacts_api.introspect(tokens["access_token"]).get_json() == {"active": False}
    expired = flow.tokens()
    row = session.scalar(select(Token).order_by(Token.id.desc()))
    row.issued_at -= timedelta(hours=2)
    session.commit()
    assert contacts_api.introspect(expired["access_token"]).get_json() == {"active": False}
    assert usage(session, redis) == {}


def test_wrong_resource_server_secret_is_refused(flow, contacts_api, session, redis):
    from tests.oauth.conftest import basic_auth

    token = flow.tokens()["access_token"]
    response = contacts_api.client.post("/oauth/introspect", data={"token": token},
                                        headers=basic_auth(contacts_api.client_id, SECRET))
    assert response.status_code == 401 and "active" not in response.get_json()
    assert usage(session, redis) == {}


def test_resource_server_credentials_work_only_for_introspection(flow, contacts_api, session):
    from tests.oauth.conftest import basic_auth

    tokens = flow.tokens()
    credentials = basic_auth(contacts_api.client_id, contacts_api.secret)
    revoked = flow.revoke(tokens["refresh_token"], headers=credentials)
    assert revoked.status_code == 401 and revoked.get_json()["error"] == "invalid_client"
    refreshed = contacts_api.client.post("/oauth/token", headers=credentials, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.get_json()["error"] == "invalid_client"
    page = flow.browser.get(flow.authorize_url(client_id=contacts_api.client_id))
    assert page.status_code == 400 and "Location" not in page.headers
    assert flow.introspect(tokens["refresh_token"]).get_json()["active"] is True


def test_with_redis_down_introspection_still_answers_and_counting_resumes_after(
        app, flow, contacts_api, session, redis, caplog):
    token = flow.tokens()["access_token"]
    app.extensions["usage_redis"] = Redis.from_url("redis://127.0.0.1:1/0",
                                                   socket_connect_timeout=0.25)
    with caplog.at_level(logging.WARNING, logger="webapp.services.usage.counting"):
        for _ in range(3):
            response = contacts_api.introspect(token, scope="contacts.read")
            assert response.status_code == 200 and response.get_json()["active"] is True
    warnings = [r.getMessage() for r in caplog.records if "not being counted" in r.getMessage()]
    assert len(warnings) == 1 and "ConnectionError" in warnings[0]
    app.extensions["usage_redis"] = redis
    contacts_api.introspect(token, scope="contacts.read")
    assert usage(session, redis) == {("acme-sync", ""): 1, ("acme-sync", "contacts.read"): 1}


def test_count_api_call_reports_whether_it_counted(redis):
    assert count_api_call(redis, 7, ["contacts.read"], NOW) is True
    assert redis.hgetall("usage:hour:2026113010") == {b"7:": b"1", b"7:contacts.read": b"1"}
    assert 0 < redis.ttl("usage:hour:2026113010") <= 8 * 24 * 3600
    assert count_api_call(None, 7, [], NOW) is False
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.25)
    assert count_api_call(down, 7, [], NOW) is False
