"""Health probes against a real HTTP server on loopback: three failures in a row open an alert
(status Error, one Error event), later ones bump it, the first success resolves it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from testsupport.ports import free_port
from tests.conftest import make_app, make_installation
from tests.http_server import local_server  # noqa: F401  (fixture)
from webapp.models import Alert, Event, HealthCheck, Installation, Workspace
from webapp.services import lifecycle
from webapp.services.errors import NotFound
from webapp.services.health_probes import run_health_probes

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
FAST = httpx.Timeout(connect=1.0, read=0.5, write=1.0, pool=1.0)


def rounds(session, count: int, allow_private: bool = True, **options):
    reports = []
    for index in range(count):
        reports.append(run_health_probes(session, allow_private, now=T0 + timedelta(minutes=5 * index),
                                         **options))
    return reports


def status_of(session, installation) -> str:
    session.expire_all()
    return session.get(Installation, installation.id).status


def log(session) -> list[tuple[str, int | None, bool, dict]]:
    return [(e.activity, e.actor_id, e.actor_app, e.details)
            for e in session.scalars(select(Event).order_by(Event.id))]


def open_alerts(session) -> list[tuple[str, int]]:
    session.expire_all()
    return [(a.title, a.count) for a in session.scalars(
        select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id))]


@pytest.fixture
def monitored(session, people, local_server):
    app = make_app(session, "pulse", health_url=local_server.url("/status"))
    installation = make_installation(session, people["acme"], app, people["admin"])
    session.commit()
    return installation


def test_three_failures_open_an_alert_and_the_first_success_resolves_it(
        session, monitored, local_server):
    local_server.status = 503
    first, second = rounds(session, 2)
    assert (first.failing, first.opened) == (1, 0)
    assert status_of(session, monitored) == "connected" and log(session) == []

    third, fourth = rounds(session, 2)
    assert third.opened == 1 and fourth.opened == 0
    assert status_of(session, monitored) == "error"
    assert open_alerts(session) == [("Health check failing: HTTP 503", 2)]
    assert log(session) == [("error", None, False, {
        "reason": "Health check failing: HTTP 503", "source": "health", "key": "health"})]

    local_server.status = 200
    recovered = run_health_probes(session, True, now=T0 + timedelta(hours=1))
    assert (recovered.healthy, recovered.resolved) == (1, 1)
    assert status_of(session, monitored) == "connected" and open_alerts(session) == []
    assert [entry[0] for entry in log(session)] == ["error", "resolved"]
    assert session.scalar(select(Alert)).resolved_at == T0 + timedelta(hours=1)
    assert run_health_probes(session, True).resolved == 0  # healthy again: nothing to write
    assert len(log(session)) == 2


def test_a_success_between_failures_starts_the_count_again(session, monitored, local_server):
    for status in (500, 500, 200, 500, 500):
        local_server.status = status
        run_health_probes(session, True)
    assert open_alerts(session) == [] and status_of(session, monitored) == "connected"
    check = session.get(HealthCheck, monitored.id)
    assert (check.consecutive_failures, check.last_outcome) == (2, "HTTP 500")


def test_the_alert_says_what_failed_and_follows_a_changing_failure(session, people, monitored,
                                                                  local_server):
    local_server.status = 502
    rounds(session, 3)
    local_server.status = 200
    monitored.app.health_url = local_server.url("/slow")
    local_server.delay = 3
    session.commit()
    run_health_probes(session, True, timeout=FAST, deadline=1.0)
    assert open_alerts(session) == [("Health check failing: timed out", 2)]
    assert [entry[0] for entry in log(session)] == ["error"]  # the same alert, updated


@pytest.mark.parametrize("path, outcome", [("/redirect", "HTTP 302"), ("/fail", "HTTP 503"),
                                           ("/slow", "timed out")])
def test_each_kind_of_failure_is_named(session, people, local_server, path, outcome):
    app = make_app(session, "pulse", health_url=local_server.url(path))
    make_installation(session, people["acme"], app, people["admin"])
    session.commit()
    rounds(session, 3, timeout=FAST, deadline=1.0)
    assert open_alerts(session) == [(f"Health check failing: {outcome}", 1)]


def test_a_refused_connection_counts_as_a_failure(session, people):
    port = free_port()
    app = make_app(session, "pulse", health_url=f"http://127.0.0.1:{port}/health")
    make_installation(session, people["acme"], app, people["admin"])
    session.commit()
    rounds(session, 3)
    assert open_alerts(session) == [("Health check failing: connection refused", 1)]


def test_without_permission_for_private_addresses_loopback_is_never_contacted(
        session, monitored, local_server):
    rounds(session, 3, allow_private=False)
    assert local_server.seen == []
    assert open_alerts(session) == [("Health check failing: address not allowed "
                                     "(127.0.0.1 is a loopback address, not allowed here)", 1)]


def test_one_request_per_app_serves_every_workspace_that_installed_it(
        session, people, monitored, local_server):
    make_installation(session, people["globex"], monitored.app)
    other = make_app(session, "quiet")  # no health_url: never probed
    make_installation(session, people["acme"], other)
    session.commit()
    local_server.status = 503
    reports = rounds(session, 3)
    assert len(local_server.seen) == 3 and reports[-1].opened == 2
    by_workspace = dict(session.execute(
        select(Workspace.slug, Installation.status).join(Installation)
        .where(Installation.app_id == monitored.app_id)).all())
    assert by_workspace == {"acme": "error", "globex": "error"}


def test_uninstalled_apps_are_not_probed(session, people, monitored, local_server):
    lifecycle.uninstall(session, monitored, people["admin"])
    session.commit()
    assert run_health_probes(session, True).probed == 0 and local_server.seen == []


def test_apps_are_probed_in_parallel_within_a_bounded_round(session, people, local_server):
    local_server.delay = 1.0
    for index in range(8):
        app = make_app(session, f"slow-{index}", health_url=local_server.url(f"/slow?n={index}"))
        make_installation(session, people["acme"], app)
    session.commit()
    # One after the other these would need 8 seconds: in parallel all answer within the round.
    together = run_health_probes(session, True, round_seconds=4.0)
    assert (together.probed, together.healthy, together.unfinished) == (8, 8, 0)
    local_server.delay = 3.0
    cut_short = run_health_probes(session, True, round_seconds=0.5)
    assert (cut_short.probed, cut_short.unfinished) == (0, 8)


def test_flask_health_probe_probes_now_and_names_an_unknown_app(app, session, monitored,
                                                                local_server, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["health", "probe", "--app", "pulse"])
    assert result.exit_code == 0, result.output
    assert "probed 1 app(s): 1 healthy, 0 failing; opened 0 alert(s), resolved 0" in result.output
    unknown = runner.invoke(args=["health", "probe", "--app", "nope"])
    assert unknown.exit_code == 2 and "No app with the slug “nope”" in unknown.output
    monkeypatch.setitem(app.config, "HEALTH_PROBE_ALLOW_PRIVATE", False)
    refused = runner.invoke(args=["health", "probe"])
    assert "0 healthy, 1 failing" in refused.output
    assert [path for path, _ in local_server.seen] == ["/status"]
    with pytest.raises(NotFound):
        run_health_probes(session, True, app_slug="nope")


def test_the_scheduler_probes_every_health_probe_interval(app, monkeypatch):
    from worker.jobs import probe_health
    from worker.schedule import schedule

    monkeypatch.setitem(app.config, "HEALTH_PROBE_INTERVAL", 120)
    assert [(entry["func"], entry["interval"]) for entry in schedule(app.config)
            if entry["func"] is probe_health] == [(probe_health, 120)]
