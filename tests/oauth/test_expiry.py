"""Refresh tokens unused for REFRESH_TOKEN_TTL days end; an installation left without a usable one
is Expired (one event, one token alert) until a new grant reconnects it."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.conftest import make_app
from webapp.database import utcnow
from webapp.models import Alert, Event, Installation, NotificationRule, Token
from webapp.services import alerts, lifecycle
from webapp.services.expiry import expire_refresh_tokens
from webapp.services.notifications.digest import build_digest
from webapp.services.links import ConsoleLinks
from webapp.services.notifications.rules import RuleForm, save_rule
from webapp.services.oauth.tokens import hash_secret
from webapp.services.summary import app_summary


def backdate_tokens(session, days: int) -> None:
    for token in session.scalars(select(Token)):
        token.issued_at -= timedelta(days=days)
    session.commit()


def log(session) -> list[tuple[str, int | None, dict]]:
    session.expire_all()
    return [(e.activity, e.actor_id, e.details)
            for e in session.scalars(select(Event).order_by(Event.id))]


def open_alerts(session) -> list[tuple[str, str, str]]:
    return [(a.source, a.key, a.title) for a in session.scalars(
        select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id))]


def installation(session) -> Installation:
    session.expire_all()
    return session.scalar(select(Installation))


def test_an_unused_refresh_token_ends_and_its_installation_expires_once(flow, session, people):
    tokens = flow.tokens()
    backdate_tokens(session, 91)

    report = expire_refresh_tokens(session, ttl_days=90)
    session.commit()
    assert (report.tokens_ended, len(report.expired)) == (1, 1)
    assert installation(session).status == "expired"
    assert app_summary(session, people["acme"].id).disconnected == 1
    assert log(session)[1:] == [("expired", None, {"reason": "No refresh token was used for 90 days"})]
    assert open_alerts(session) == [("token", "refresh-token", "Refresh token expired")]

    again = expire_refresh_tokens(session, ttl_days=90)
    session.commit()
    assert (again.tokens_ended, again.expired) == (0, [])
    assert len(log(session)) == 2 and len(open_alerts(session)) == 1

    # The app is told the token is revoked; that is no replay, so nothing more is revoked.
    refused = flow.refresh(tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    assert installation(session).status == "expired" and len(log(session)) == 2


def test_tokens_used_within_the_ttl_live_on(flow, session):
    tokens = flow.tokens()
    backdate_tokens(session, 60)
    assert expire_refresh_tokens(session, ttl_days=90).tokens_ended == 0
    session.commit()
    assert flow.refresh(tokens["refresh_token"]).status_code == 200
    assert installation(session).status == "connected"


def test_a_new_grant_reconnects_and_resolves_the_token_alert_in_one_event(flow, session):
    flow.tokens()
    backdate_tokens(session, 91)
    expire_refresh_tokens(session, ttl_days=90)
    session.commit()

    flow.tokens()
    assert installation(session).status == "connected"
    assert [entry[0] for entry in log(session)] == ["installed", "expired", "reconnected"]
    assert log(session)[-1][2] == {"resolved_alerts": 1}
    assert open_alerts(session) == []
    assert session.scalar(select(Alert)).resolved_at is not None


def test_reconnecting_with_another_alert_open_lands_on_error(flow, session):
    flow.tokens()
    alerts.open_or_bump(session, installation(session), "health", "health",
                        "Health check failing: HTTP 503")
    session.commit()
    backdate_tokens(session, 91)
    expire_refresh_tokens(session, ttl_days=90)
    session.commit()
    assert installation(session).status == "expired"  # worse than error
    flow.tokens()
    assert installation(session).status == "error"
    assert open_alerts(session) == [("health", "health", "Health check failing: HTTP 503")]


def _user_token(session, grant, issued_at: datetime) -> None:
    session.add(Token(grant_id=grant.id, app_id=grant.app_id, workspace_id=grant.workspace_id,
                      user_id=grant.user_id, access_token_hash=hash_secret(secrets.token_hex(16)),
                      refresh_token_hash=hash_secret(secrets.token_hex(16)), scope="contacts.read",
                      issued_at=issued_at, expires_in=3600))


def test_a_user_level_app_expires_only_when_no_users_token_is_left(session, people):
    notes = make_app(session, "notes", install_level="user")
    now = utcnow()
    carol = lifecycle.consent(session, people["acme"], notes, people["user"], ["contacts.read"])
    bob = lifecycle.consent(session, people["acme"], notes, people["admin"], ["contacts.read"])
    _user_token(session, carol, now - timedelta(days=100))
    _user_token(session, bob, now - timedelta(days=10))
    session.commit()
    report = expire_refresh_tokens(session, now, ttl_days=90)
    session.commit()
    assert (report.tokens_ended, report.expired) == (1, [])
    assert installation(session).status == "connected"

    later = now + timedelta(days=85)
    assert len(expire_refresh_tokens(session, later, ttl_days=90).expired) == 1
    session.commit()
    assert installation(session).status == "expired"


def test_flask_tokens_expire_uses_the_configured_ttl(app, flow, session, monkeypatch):
    flow.tokens()
    backdate_tokens(session, 31)
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["tokens", "expire"])
    assert kept.exit_code == 0, kept.output
    assert "ended 0 refresh token(s); 0 installation(s) expired" in kept.output
    monkeypatch.setitem(app.config, "REFRESH_TOKEN_TTL", 30)
    ended = runner.invoke(args=["tokens", "expire"])
    assert "ended 1 refresh token(s); 1 installation(s) expired" in ended.output
    assert installation(session).status == "expired"


def test_the_scheduler_ends_tokens_hourly(app):
    from worker.jobs import expire_tokens
    from worker.schedule import schedule

    assert [(entry["func"], entry["cron"]) for entry in schedule(app.config)
            if entry["func"] is expire_tokens] == [(expire_tokens, "7 * * * *")]


def test_app_disconnect_rules_report_an_expiry(flow, session, people):
    day = datetime(2026, 11, 3, tzinfo=timezone.utc)
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(
        name="Broken apps", rule_type="app_disconnect", frequency="day", all_apps=True,
        channels=["email"], audience="super_admins"), now=day)
    session.commit()
    flow.tokens()
    backdate_tokens(session, 200)
    expire_refresh_tokens(session, day + timedelta(hours=9), ttl_days=90)
    session.commit()
    rule = session.get(NotificationRule, rule.id)
    links = ConsoleLinks("http://localhost")
    digest = build_digest(session, links, rule, people["acme"], day, day + timedelta(days=1))
    assert [(line["kind"], line["text"], line["activity"]) for line in digest["lines"]] == [
        ("event", "Acme Sync expired", "Expired")]
    reminder = build_digest(session, links, rule, people["acme"], day + timedelta(days=1),
                            day + timedelta(days=2))
    assert [line["text"].split(" (")[0] for line in reminder["lines"]] == [
        "Acme Sync is still disconnected"]


def test_an_issued_refresh_token_lives_refresh_token_ttl_days(flow, session, app):
    app.config["REFRESH_TOKEN_TTL"] = 30
    try:
        flow.tokens()
    finally:
        app.config["REFRESH_TOKEN_TTL"] = 90
    token = session.scalar(select(Token))
    assert token.refresh_expires_at - token.issued_at == timedelta(days=30)
