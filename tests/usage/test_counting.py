"""Counting API calls: a resource server's introspections of active access tokens, per
installation and per scope the call needs; nothing else counts, and Redis failing changes nothing
for the caller."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone

from flask import current_app
from redis import Redis
from sqlalchemy import select

from tests.oauth.conftest import SECRET
from webapp.models import Installation, Token, UsageHourly
from webapp.services.usage import count_api_call, fold_usage

NOW = datetime(2026, 11, 30, 10, 15, tzinfo=timezone.utc)


def usage(session, redis) -> dict[tuple[str, str], int]:
    """Everything counted so far, sent and folded: {(app slug, scope): calls}."""
    counter = current_app.extensions.get("usage_counter")
    if counter is not None:
        assert counter.flush()
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


def test_counts_reach_redis_from_the_counters_own_thread(flow, contacts_api, redis):
    contacts_api.introspect(flow.tokens()["access_token"], scope="contacts.read")
    deadline = time.monotonic() + 5
    while not list(redis.scan_iter("usage:hour:*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    (key,) = redis.scan_iter("usage:hour:*")
    assert sorted(redis.hvals(key)) == [b"1", b"1"]


def test_with_redis_down_introspection_answers_and_the_counts_wait_until_it_is_back(
        app, flow, contacts_api, session, redis, private_redis, make_counter, caplog):
    token = flow.tokens()["access_token"]
    counter = make_counter(private_redis.url)
    app.extensions["usage_counter"] = counter
    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="webapp.services.usage.counting"):
        for _ in range(3):
            response = contacts_api.introspect(token, scope="contacts.read")
            assert response.status_code == 200 and response.get_json()["active"] is True
        assert counter.flush() is False and counter.flush() is False
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "wait in this process until it answers" in warnings[0]
    private_redis.start()
    contacts_api.introspect(token)
    assert counter.flush() is True and counter.lost == 0
    assert usage(session, counter.redis) == {("acme-sync", ""): 4,
                                             ("acme-sync", "contacts.read"): 3}


def test_a_batch_whose_sending_failed_midway_is_not_sent_again(session, people, private_redis,
                                                               make_counter):
    from tests.conftest import make_app, make_installation

    installation = make_installation(session, people["acme"], make_app(session, "crm-sync"))
    session.commit()
    counter = make_counter(private_redis.url, socket_timeout=0.2)
    redis = counter.redis
    counter.count(installation.id, ["contacts.read"], NOW)
    counter.count(installation.id, [], NOW)
    redis.execute_command("CLIENT", "PAUSE", 600, "WRITE")  # PING answers, writes wait
    assert counter.flush() is False and counter.lost == 2
    time.sleep(0.7)
    counter.count(installation.id, [], NOW)
    assert counter.flush() is True
    fold_usage(session, redis, NOW)
    # The timed-out writes went with their connection; had they arrived, sending them again
    # would have counted them twice, so they are reported lost instead.
    assert {row.scope: row.calls for row in session.scalars(select(UsageHourly))} == {"": 1}


def test_while_redis_is_down_a_process_keeps_a_bounded_number_of_counters(private_redis,
                                                                         make_counter):
    counter = make_counter(private_redis.url, max_pending=3)
    private_redis.stop()
    counter.count(1, ["contacts.read"], NOW)
    counter.count(2, [], NOW)
    counter.count(1, ["contacts.read"], NOW)  # the same counters: kept
    counter.count(3, [], NOW)  # a fourth counter: not kept
    assert counter.flush() is False
    assert counter.lost == 1
    private_redis.start()
    assert counter.flush() is True
    assert counter.redis.hgetall("usage:hour:2026113010") == {
        b"1:": b"2", b"1:contacts.read": b"2", b"2:": b"1"}


def test_closing_a_counter_sends_what_is_pending(redis, make_counter):
    from tests.conftest import TEST_REDIS_URL

    counter = make_counter(TEST_REDIS_URL)
    counter.count(5, [], NOW)
    assert redis.hgetall("usage:hour:2026113010") == {}
    counter.close()
    assert redis.hgetall("usage:hour:2026113010") == {b"5:": b"1"}


def test_count_api_call_counts_at_once_and_reports_whether_it_did(redis):
    assert count_api_call(redis, 7, ["contacts.read"], NOW) is True
    assert redis.hgetall("usage:hour:2026113010") == {b"7:": b"1", b"7:contacts.read": b"1"}
    assert 0 < redis.ttl("usage:hour:2026113010") <= 8 * 24 * 3600
    assert count_api_call(None, 7, [], NOW) is False
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.25)
    assert count_api_call(down, 7, [], NOW) is False
