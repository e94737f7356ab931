"""Refresh tokens (RFC 6749 6, RFC 9700 4.14): rotation, replay revokes the family, races."""
from __future__ import annotations

import threading

from sqlalchemy import select

from tests.oauth.conftest import OTHER_SECRET, basic_auth
from webapp.models import Event, Grant, Installation, Token


def test_refresh_rotates_the_refresh_token(flow, session):
    tokens = flow.tokens()
    response = flow.refresh(tokens["refresh_token"])
    assert response.status_code == 200
    fresh = response.get_json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["scope"] == tokens["scope"]
    old, new = session.scalars(select(Token).order_by(Token.id)).all()
    assert old.rotated_at is not None and new.rotated_at is None
    assert flow.introspect(fresh["access_token"]).get_json()["active"] is True
    assert flow.introspect(tokens["refresh_token"]).get_json() == {"active": False}


def test_replayed_refresh_token_revokes_the_whole_grant_and_logs_it(flow, session):
    tokens = flow.tokens()
    fresh = flow.refresh(tokens["refresh_token"]).get_json()
    newer = flow.refresh(fresh["refresh_token"]).get_json()

    replay = flow.refresh(tokens["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    for token in (fresh["access_token"], newer["access_token"], newer["refresh_token"]):
        assert flow.introspect(token).get_json() == {"active": False}
    assert flow.refresh(newer["refresh_token"]).status_code == 400
    grant = session.scalar(select(Grant))
    assert grant.revoked_at is not None and grant.revoked_reason == "refresh_token_reuse"
    installation = session.scalar(select(Installation))
    assert installation.status == "disconnected"
    logged = [(e.activity, e.actor_id, e.details) for e in session.scalars(select(Event))]
    assert logged[-1] == ("disconnected", None, {"reason": "refresh_token_reuse"})
    assert [activity for activity, _, _ in logged] == ["installed", "disconnected"]


def test_refresh_token_of_another_client_is_refused_and_stays_usable(flow, other_client):
    tokens = flow.tokens()
    response = flow.browser.client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic_auth(other_client.client_id, OTHER_SECRET))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


def test_refresh_cannot_widen_the_scope(flow):
    tokens = flow.tokens(scope="contacts.read")
    response = flow.browser.client.post(
        "/oauth/token", headers=basic_auth(flow.app.client_id),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
              "scope": "contacts.read contacts.write"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_refresh_after_uninstall_is_refused(flow, session):
    from webapp.services.lifecycle import uninstall

    tokens = flow.tokens()
    uninstall(session, session.scalar(select(Installation)), flow.user)
    session.commit()
    response = flow.refresh(tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert [e.activity for e in session.scalars(select(Event))] == ["installed", "uninstalled"]


def test_fifty_concurrent_refreshes_with_one_token_give_exactly_one_success(flow, app, session):
    tokens = flow.tokens()
    request = {"data": {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
               "headers": basic_auth(flow.app.client_id)}
    start = threading.Barrier(50)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def refresh():
        client = app.test_client()  # no app context in this thread: its own session
        start.wait()
        response = client.post("/oauth/token", **request)
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=refresh) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * 49
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    session.expire_all()
    assert session.query(Token).filter(Token.rotated_at.is_not(None)).count() == 1
    assert len(session.scalars(select(Token)).all()) == 2
    # Using one refresh token twice is what RFC 9700 treats as theft: the family is revoked,
    # and the log says so once.
    disconnects = [e for e in session.scalars(select(Event)) if e.activity == "disconnected"]
    assert len(disconnects) == 1
