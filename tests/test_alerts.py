"""Alerts: opening writes one Error event, a repeat only bumps, resolving writes one Resolved event;
the installation's status follows (error while any alert is open, unless something worse)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from tests.conftest import make_app
from webapp.extensions import db
from webapp.models import Alert, Event, Installation
from webapp.services import alerts, lifecycle
from webapp.services.errors import NotFound
from webapp.services.summary import app_summary

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def log(session) -> list[tuple[str, int | None, bool, dict]]:
    return [(e.activity, e.actor_id, e.actor_app, e.details)
            for e in session.scalars(select(Event).order_by(Event.id))]


@pytest.fixture
def installation(session, people) -> Installation:
    app = make_app(session, "acme-sync")
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"])
    session.commit()
    return session.scalar(select(Installation).where(Installation.app_id == app.id))


def activities(session) -> list[str]:
    return [entry[0] for entry in log(session)]


def test_an_alert_opens_once_and_repeats_bump_it(session, people, installation):
    alert, opened = alerts.open_or_bump(session, installation, "app", "sync", "Sync failing",
                                        "3 failed syncs", now=T0)
    session.commit()
    assert opened and installation.status == "error"
    assert app_summary(session, people["acme"].id).errors == 1
    assert log(session)[-1] == ("error", None, True, {"reason": "Sync failing", "source": "app",
                                                     "key": "sync"})
    again, opened = alerts.open_or_bump(session, installation, "app", "sync", "Sync failing",
                                        "5 failed syncs", now=T0 + timedelta(minutes=5))
    session.commit()
    assert not opened and again.id == alert.id
    assert (again.count, again.first_seen, again.last_seen, again.detail) == (
        2, T0, T0 + timedelta(minutes=5), "5 failed syncs")
    assert activities(session) == ["installed", "error"]
    assert session.scalar(select(Alert.id).where(Alert.id != alert.id)) is None


def test_resolving_the_last_alert_reconnects_and_writes_one_event(session, installation):
    alerts.open_or_bump(session, installation, "health", "health", "Health check failing: HTTP 503",
                        now=T0)
    alerts.open_or_bump(session, installation, "app", "sync", "Sync failing", now=T0)
    session.commit()
    alerts.resolve(session, installation, "app", "sync", now=T0 + timedelta(hours=1))
    session.commit()
    assert installation.status == "error"  # the health alert is still open
    resolved = alerts.resolve(session, installation, "health", "health",
                              now=T0 + timedelta(hours=2))
    session.commit()
    assert installation.status == "connected"
    assert resolved.resolved_at == T0 + timedelta(hours=2)
    assert activities(session) == ["installed", "error", "error", "resolved", "resolved"]
    assert log(session)[-1] == ("resolved", None, False, {
        "reason": "Health check failing: HTTP 503", "source": "health", "key": "health"})


def test_a_resolved_key_opens_a_new_alert_the_next_time(session, installation):
    first, _ = alerts.open_or_bump(session, installation, "app", "sync", "Sync failing", now=T0)
    alerts.resolve(session, installation, "app", "sync", now=T0)
    second, opened = alerts.open_or_bump(session, installation, "app", "sync", "Sync failing",
                                         now=T0 + timedelta(days=1))
    session.commit()
    assert opened and second.id != first.id and second.count == 1
    assert activities(session) == ["installed", "error", "resolved", "error"]


def test_the_same_key_from_another_source_is_another_alert(session, installation):
    alerts.open_or_bump(session, installation, "app", "health", "The app says it is unwell")
    _, opened = alerts.open_or_bump(session, installation, "health", "health",
                                    "Health check failing: timed out")
    session.commit()
    assert opened
    with pytest.raises(NotFound):
        alerts.resolve(session, installation, "app", "nothing-open")


def test_an_alert_leaves_a_worse_status_alone(session, people, installation):
    lifecycle.disconnect(session, installation, people["admin"], "admin_disconnected")
    alerts.open_or_bump(session, installation, "health", "health", "Health check failing: HTTP 500")
    session.commit()
    assert installation.status == "disconnected"
    assert activities(session) == ["installed", "disconnected", "error"]
    # Reconnecting with the health alert still open lands on error, not connected.
    lifecycle.consent(session, people["acme"], installation.app, people["admin"], ["contacts.read"])
    session.commit()
    assert installation.status == "error"
    assert activities(session)[-1] == "reconnected"


def test_uninstalling_resolves_open_alerts_within_its_one_event(session, people, installation):
    alerts.open_or_bump(session, installation, "app", "sync", "Sync failing")
    alerts.open_or_bump(session, installation, "health", "health", "Health check failing: HTTP 502")
    session.commit()
    lifecycle.uninstall(session, installation, people["admin"])
    session.commit()
    assert activities(session) == ["installed", "error", "error", "uninstalled"]
    assert log(session)[-1][3] == {"resolved_alerts": 2}
    assert alerts.has_open_alerts(session, installation) is False
    lifecycle.consent(session, people["acme"], installation.app, people["admin"], ["contacts.read"])
    session.commit()
    assert (installation.state, installation.status) == ("installed", "connected")


def test_an_alert_on_an_installation_disconnected_meanwhile_keeps_it_disconnected(
        session, people, installation):
    """A probe round loads its installations first; an admin disconnecting one meanwhile (in
    another transaction) must not be overwritten by the round's Error."""
    assert installation.status == "connected"  # loaded in this session, as a probe round does
    with OrmSession(db.engine) as other:
        lifecycle.disconnect(other, other.get(Installation, installation.id), None,
                             "admin_disconnected")
        other.commit()
    alerts.open_or_bump(session, installation, "health", "health", "Health check failing: HTTP 503")
    session.commit()
    session.expire_all()
    assert session.get(Installation, installation.id).status == "disconnected"
