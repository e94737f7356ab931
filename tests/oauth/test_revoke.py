"""Token revocation (RFC 7009)."""
from __future__ import annotations

from sqlalchemy import select

from tests.oauth.conftest import OTHER_SECRET, basic_auth
from webapp.models import Event, Installation


def test_revoking_an_access_token_ends_only_that_token(flow, session):
    tokens = flow.tokens()
    response = flow.revoke(tokens["access_token"], hint="access_token")
    assert response.status_code == 200
    assert flow.introspect(tokens["access_token"]).get_json() == {"active": False}
    # The app may keep refreshing; nothing changed for the installation.
    assert flow.refresh(tokens["refresh_token"]).status_code == 200
    assert session.scalar(select(Installation)).status == "connected"


def test_app_revoking_its_refresh_token_disconnects_the_installation(flow, session):
    tokens = flow.tokens()
    assert flow.revoke(tokens["refresh_token"], hint="refresh_token").status_code == 200
    assert flow.introspect(tokens["access_token"]).get_json() == {"active": False}
    assert flow.refresh(tokens["refresh_token"]).status_code == 400
    assert session.scalar(select(Installation)).status == "disconnected"
    logged = [(e.activity, e.actor_id, e.details) for e in session.scalars(select(Event))]
    assert logged == [("installed", flow.user.id, {}),
                      ("disconnected", None, {"reason": "revoked_by_app"})]
    # Revoking again is harmless and logs nothing more
    assert flow.revoke(tokens["refresh_token"]).status_code == 200
    assert len(session.scalars(select(Event)).all()) == 2


def test_refresh_token_is_found_without_a_hint(flow, session):
    tokens = flow.tokens()
    assert flow.revoke(tokens["refresh_token"]).status_code == 200
    assert session.scalar(select(Installation)).status == "disconnected"


def test_another_clients_token_is_refused_and_stays_active(flow, other_client, session):
    tokens = flow.tokens()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = flow.revoke(token, headers=basic_auth(other_client.client_id, OTHER_SECRET))
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_grant"
    assert flow.introspect(tokens["access_token"]).get_json()["active"] is True
    assert session.scalar(select(Installation)).status == "connected"


def test_unknown_token_answers_200(flow):
    assert flow.revoke("no-such-token").status_code == 200


def test_revocation_needs_client_authentication(flow):
    tokens = flow.tokens()
    response = flow.revoke(tokens["access_token"], headers={})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert flow.revoke(tokens["access_token"],
                       headers=basic_auth(flow.app.client_id, "wrong")).status_code == 401
    assert flow.introspect(tokens["access_token"]).get_json()["active"] is True


def test_missing_token_parameter_is_invalid_request(flow):
    response = flow.browser.client.post("/oauth/revoke", data={},
                                        headers=basic_auth(flow.app.client_id))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_revocation_needs_no_csrf_token_but_a_get_is_refused(flow):
    flow.browser.csrf_token = None
    assert flow.revoke("anything").status_code == 200
    assert flow.browser.client.get("/oauth/revoke").status_code == 405
