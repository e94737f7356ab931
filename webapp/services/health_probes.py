"""Health probes: every installed app that has a `health_url` is asked, in parallel, how it is.

One request per app per round (its health_url is the app's, whatever the workspace), through the
outgoing client and its address guard. An answer 2xx is a success; a timeout, a refused or
failed connection, a refused address and any other status (redirects are not followed) are
failures. Each installation counts its consecutive failures: the third opens the alert "Health
check failing: ..." (its status becomes error, one Error event), later ones bump it, and the
first success resolves it (one Resolved event).

A round is bounded in time: apps whose probe has not finished by then are left uncounted this
round (each probe's own deadline is far shorter, so that only happens when very many apps are
slow). Network I/O happens outside any transaction; each app's outcome is then committed on its
own, so one failure to record never loses the others.
"""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import App, HealthCheck, Installation
from webapp.services import alerts, outgoing
from webapp.services.errors import NotFound

HEALTH_ALERT_KEY = "health"
FAILURES_BEFORE_ALERT = 3
ROUND_SECONDS = 60.0
MAX_PARALLEL = 16


@dataclass(frozen=True)
class ProbeOutcome:
    ok: bool
    outcome: str  # "HTTP 200", "HTTP 503", "timed out", "connection refused", ...


@dataclass
class ProbeReport:
    probed: int = 0
    healthy: int = 0
    failing: int = 0
    unfinished: int = 0
    opened: int = 0
    resolved: int = 0

    def summary(self) -> str:
        text = (f"probed {self.probed} app(s): {self.healthy} healthy, {self.failing} failing; "
                f"opened {self.opened} alert(s), resolved {self.resolved}")
        if self.unfinished:
            text += f"; {self.unfinished} did not answer within the round"
        return text


def probe_targets(session: Session, app_slug: str | None = None) -> dict[int, str]:
    """{app id: health_url} of the apps with a health_url and at least one installed installation."""
    query = (select(App.id, App.health_url).join(Installation, Installation.app_id == App.id)
             .where(App.health_url.is_not(None), App.health_url != "",
                    Installation.state == "installed").distinct())
    if app_slug is not None:
        app = session.scalar(select(App).where(App.slug == app_slug))
        if app is None:
            raise NotFound(f"No app with the slug “{app_slug}”.", field="app")
        if not app.health_url:
            raise NotFound(f"{app.name} has no health URL to probe.", field="app")
        query = query.where(App.id == app.id)
    return dict(session.execute(query).all())


def probe(url: str, allow_private: bool, client: httpx.Client | None = None,
          deadline: float = outgoing.DEADLINE_SECONDS) -> ProbeOutcome:
    try:
        result = outgoing.fetch(url, allow_private=allow_private, client=client,
                                max_bytes=4096, deadline=deadline,
                                headers={"Accept": "application/json, text/plain, */*"})
    except outgoing.DestinationRefused as error:
        return ProbeOutcome(False, f"address not allowed ({error.reason})")
    except outgoing.OutgoingError as error:
        return ProbeOutcome(False, error.reason)
    return ProbeOutcome(result.ok, f"HTTP {result.status_code}")


def probe_all(targets: dict[int, str], allow_private: bool,
              round_seconds: float = ROUND_SECONDS, deadline: float = outgoing.DEADLINE_SECONDS,
              timeout: httpx.Timeout = outgoing.TIMEOUT) -> dict[int, ProbeOutcome]:
    """Probes every target in parallel; returns the outcomes that arrived within the round."""
    if not targets:
        return {}
    order = list(targets.items())
    random.shuffle(order)  # when a round runs out of time, not always the same apps miss out
    workers = min(MAX_PARALLEL, len(order))
    outcomes: dict[int, ProbeOutcome] = {}
    with outgoing.make_client(max_connections=workers, timeout=timeout) as client:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="health-probe")
        futures = {pool.submit(probe, url, allow_private, client, deadline): app_id
                   for app_id, url in order}
        done, _ = wait(futures, timeout=round_seconds)
        pool.shutdown(wait=False, cancel_futures=True)
        for future in done:
            outcomes[futures[future]] = future.result()
    return outcomes


def record_outcome(session: Session, installation: Installation, url: str,
                   result: ProbeOutcome, now: datetime) -> tuple[bool, bool]:
    """Counts one probe for the installation; returns (alert opened, alert resolved)."""
    alerts.lock(session, installation)
    check = session.get(HealthCheck, installation.id, populate_existing=True)
    if check is None:
        check = HealthCheck(installation_id=installation.id,
                            workspace_id=installation.workspace_id, consecutive_failures=0)
        session.add(check)
    check.last_checked_at, check.last_outcome = now, result.outcome[:200]
    if result.ok:
        check.consecutive_failures = 0
        resolved = alerts.resolve_if_open(session, installation, "health", HEALTH_ALERT_KEY, now)
        return False, resolved is not None
    check.consecutive_failures += 1
    if check.consecutive_failures < FAILURES_BEFORE_ALERT:
        session.flush()
        return False, False
    detail = (f"GET {url[:1500]}: {result.outcome}, "
              f"{check.consecutive_failures} checks in a row.")
    _, opened = alerts.open_or_bump(session, installation, "health", HEALTH_ALERT_KEY,
                                    f"Health check failing: {result.outcome}"[:200], detail, now)
    return opened, False


def run_health_probes(session: Session, allow_private: bool, app_slug: str | None = None,
                      now: datetime | None = None, round_seconds: float = ROUND_SECONDS,
                      deadline: float = outgoing.DEADLINE_SECONDS,
                      timeout: httpx.Timeout = outgoing.TIMEOUT) -> ProbeReport:
    """One round: probe, then record each app's outcome on each of its installations.

    Commits: the read before probing (no transaction stays open during network I/O) and each
    app's outcome once recorded."""
    targets = probe_targets(session, app_slug)
    session.commit()
    outcomes = probe_all(targets, allow_private, round_seconds, deadline, timeout)
    now = now or utcnow()
    report = ProbeReport(probed=len(outcomes), unfinished=len(targets) - len(outcomes))
    for app_id, result in outcomes.items():
        if result.ok:
            report.healthy += 1
        else:
            report.failing += 1
        installations = session.scalars(select(Installation).where(
            Installation.app_id == app_id, Installation.state == "installed")
            .order_by(Installation.id)).unique().all()
        for installation in installations:
            opened, resolved = record_outcome(session, installation, targets[app_id], result, now)
            report.opened += opened
            report.resolved += resolved
        session.commit()
    return report
