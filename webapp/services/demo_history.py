"""The demo installations' histories, played through the services that run the real thing.

Each scenario of data/demo_workspace.json becomes timed steps: consents (lifecycle.consent, with
tokens issued on the grant as a code exchange would), disconnects, uninstalls, sync changes,
alerts reported by the app, health probes failing and recovering, refresh tokens that expire.
Every status the demo shows comes from these steps, never from a status or alert written by
hand, and every event of those histories is the one the service itself records.

The seed plays the apps' part too: the tokens issued to them, the alerts they reported and the
health their endpoint answers with are what the demo apps' host keeps (see demo_host/store.py),
so the host carries on where the history stops.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.demo_host.store import connection_key, token_record
from webapp.models import App, Grant, Installation, Scope, User, Workspace
from webapp.services import (expiry, external_accounts, health_probes, lifecycle,
                             reported_alerts)
from webapp.services.demo_events import HistoryEvent
from webapp.services.installations import plan_covers
from webapp.services.oauth.tokens import IssuedTokens, issue_tokens, rotate_tokens

# The demo apps used their refresh tokens this long before the seed ran (all but an expired one).
LAST_REFRESH = timedelta(minutes=20)
PROBE_SPACING = timedelta(minutes=5)
RESOLVED_AFTER = timedelta(minutes=30)


def at(now: datetime, days_ago: int) -> datetime:
    """A plausible office-hours time `days_ago` days back (a few minutes ago for today)."""
    if days_ago == 0:
        return now - timedelta(minutes=12)
    day = now - timedelta(days=days_ago)
    return day.replace(hour=8 + days_ago % 9, minute=(days_ago * 7) % 60, second=0, microsecond=0)


def history_of(scenario: dict, ttl_days: int) -> list[list]:
    """[activity, days ago, email or None] in time order. An app whose refresh token expires
    was installed (and last refreshed) longer ago than the tokens live unused."""
    history = scenario.get("history") or [["installed", scenario["days_ago"], scenario["by"]]]
    if "expired" in scenario:
        oldest = scenario["expired"] + ttl_days + 1
        history = [[activity, max(days, oldest) if index == 0 else days, email]
                   for index, (activity, days, email) in enumerate(history)]
    return history


@dataclass
class Step:
    """One thing that happened to an installation; `event` is what its service writes, if any."""

    at: datetime
    app_id: int
    run: Callable[[], None]
    event: HistoryEvent | None = None


@dataclass
class AppsKeep:
    """What the demo apps keep of the histories played here (written to the demo apps file)."""

    connections: dict[str, dict[str, dict]] = field(default_factory=dict)
    reported: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)
    tokens: dict[tuple[str, str], IssuedTokens] = field(default_factory=dict)


class HistoryPlayer:
    def __init__(self, session: Session, workspace: Workspace, apps: dict[str, App],
                 people: dict[str, User], now: datetime, ttl_days: int):
        self.session, self.workspace, self.apps, self.people = session, workspace, apps, people
        self.now, self.ttl_days = now, ttl_days
        self.keep = AppsKeep()
        self.scopes: dict[int, list[str]] = {}  # what each app's consents grant
        self.catalogue = {scope.name: scope for scope in session.scalars(select(Scope))}

    # --- planning ----------------------------------------------------------------------------

    def steps(self, scenario: dict) -> list[Step]:
        app = self.apps[scenario["app"]]
        scopes = [name for name in app.all_scopes
                  if plan_covers(self.workspace.plan, self.catalogue[name].min_plan)
                  and name not in scenario.get("lacking", [])]
        self.scopes[app.id] = scopes
        steps: list[Step] = []
        history = history_of(scenario, self.ttl_days)
        for activity, days_ago, email in history:
            when = at(self.now, days_ago)
            user = self.people[email] if email else None
            if activity in ("installed", "reinstalled", "reconnected"):
                steps.append(self._consent(app, user, scopes, when, activity, {}))
            elif activity == "uninstalled":
                steps.append(Step(when, app.id, lambda u=user, w=when, a=app: self._uninstall(a, u, w),
                                  HistoryEvent(activity, when, user.id if user else None)))
            elif activity == "disconnected":
                reason = "admin_disconnected" if user else "revoked_by_app"
                steps.append(Step(when, app.id,
                                  lambda u=user, w=when, a=app, r=reason: self._disconnect(a, u, r, w),
                                  HistoryEvent(activity, when, user.id if user else None,
                                               {"reason": reason})))
        for email, days_ago in scenario.get("grants", []):
            steps.append(self._consent(app, self.people[email], scopes, at(self.now, days_ago),
                                       "installed", {"user_grant": True}))
        steps += self._sync_steps(app, scenario, history[0][2])
        for alert in scenario.get("alerts", []):
            steps += (self._health_steps if alert["source"] == "health" else self._app_alert_steps)(
                app, alert)
        if "expired" in scenario:
            when = at(self.now, scenario["expired"])
            steps.append(Step(when, app.id, lambda w=when: self._expire(w),
                              HistoryEvent("expired", when, None)))
        if scenario.get("health"):
            self.keep.health[app.slug] = scenario["health"]
        return sorted(steps, key=lambda step: step.at)

    def _consent(self, app: App, user: User, scopes: list[str], when: datetime, activity: str,
                 details: dict) -> Step:
        if app.install_level == "user" and activity in ("reinstalled", "reconnected"):
            details = {"user_grant": True}

        def run() -> None:
            lifecycle.check_may_consent(self.workspace, app, user)
            grant = lifecycle.consent(self.session, self.workspace, app, user, scopes, now=when)
            self._hand_over(app, user, grant, when)

        return Step(when, app.id, run, HistoryEvent(activity, when, user.id, details))

    def _sync_steps(self, app: App, scenario: dict, installer: str) -> list[Step]:
        """A day after the install someone gave each seeded sync setting its value."""
        when = at(self.now, history_of(scenario, self.ttl_days)[0][1] - 1)
        steps = []
        for setting in app.sync_settings:
            value = scenario.get("sync", {}).get(setting["key"], setting["default"])
            if value == setting["default"]:
                continue
            actor = self.people[installer]

            def run(key=setting["key"], enabled=value, moment=when) -> None:
                lifecycle.set_sync(self.session, self._installation(app), key, enabled, actor,
                                   now=moment)

            steps.append(Step(when, app.id, run, HistoryEvent(
                "sync_on" if value else "sync_off", when, actor.id,
                {"key": setting["key"], "label": setting["label"]})))
            when += timedelta(minutes=3)
        return steps

    def _app_alert_steps(self, app: App, alert: dict) -> list[Step]:
        """The app reports a problem, reports it again (count) and perhaps says it is over."""
        first, last = at(self.now, alert["first"]), at(self.now, alert["last"])
        key, title, detail = alert["key"], alert["title"], alert.get("detail")
        times = _spread(first, last, alert.get("count", 1))

        def report(moment: datetime) -> None:
            reported_alerts.report(self.session, self._installation(app), key,
                                   {"title": title, "detail": detail}, now=moment)
            if moment == first:
                self.keep.reported.setdefault(app.slug, {}).setdefault(
                    self.workspace.slug, []).append(key)

        details = {"reason": title, "source": "app", "key": key}
        steps = [Step(moment, app.id, lambda m=moment: report(m),
                      HistoryEvent("error", moment, None, details) if moment == first else None)
                 for moment in times]
        if alert.get("resolved") is not None:
            when = at(self.now, alert["resolved"]) + RESOLVED_AFTER

            def withdraw() -> None:
                reported_alerts.withdraw(self.session, self._installation(app), key, now=when)
                self.keep.reported[app.slug][self.workspace.slug].remove(key)

            steps.append(Step(when, app.id, withdraw, HistoryEvent("resolved", when, None, details)))
        return steps

    def _health_steps(self, app: App, alert: dict) -> list[Step]:
        """Probes failing in a row (the third opens the alert, `count` is the alert's), then,
        when the app recovered, the probe that succeeded."""
        first, last = at(self.now, alert["first"]), at(self.now, alert["last"])
        failing = health_probes.ProbeOutcome(False, alert["outcome"])
        before = [first - PROBE_SPACING * n
                  for n in range(health_probes.FAILURES_BEFORE_ALERT - 1, 0, -1)]
        details = {"reason": f"Health check failing: {alert['outcome']}", "source": "health",
                   "key": health_probes.HEALTH_ALERT_KEY}

        def probe(moment: datetime, outcome: health_probes.ProbeOutcome) -> None:
            health_probes.record_outcome(self.session, self._installation(app), app.health_url,
                                         outcome, moment)

        steps = [Step(moment, app.id, lambda m=moment: probe(m, failing),
                      HistoryEvent("error", moment, None, details) if moment == first else None)
                 for moment in before + _spread(first, last, alert.get("count", 1))]
        if alert.get("resolved") is not None:
            when = at(self.now, alert["resolved"]) + RESOLVED_AFTER
            steps.append(Step(when, app.id,
                              lambda: probe(when, health_probes.ProbeOutcome(True, "HTTP 200")),
                              HistoryEvent("resolved", when, None, details)))
        return steps

    # --- what the steps do -------------------------------------------------------------------

    def _installation(self, app: App) -> Installation:
        return self.session.scalar(select(Installation).where(
            Installation.workspace_id == self.workspace.id, Installation.app_id == app.id))

    def _hand_over(self, app: App, user: User, grant: Grant, when: datetime) -> None:
        """The tokens of a consent go to the app, which keeps them by connection."""
        issued = issue_tokens(self.session, grant, timedelta(days=self.ttl_days), when)
        key = connection_key(self.workspace.slug, user.email, app.install_level)
        self.keep.tokens[(app.slug, key)] = issued
        self.keep.connections.setdefault(app.slug, {})[key] = token_record(
            self.workspace.slug, user.email, issued.access_token, issued.refresh_token,
            issued.expires_in, issued.scope, when)

    def _forget(self, app: App) -> None:
        """A revoked grant's tokens are of no use to the app any more."""
        self.keep.connections.pop(app.slug, None)
        for slug, key in [k for k in self.keep.tokens if k[0] == app.slug]:
            del self.keep.tokens[(slug, key)]

    def _uninstall(self, app: App, actor: User | None, when: datetime) -> None:
        lifecycle.uninstall(self.session, self._installation(app), actor, now=when)
        self._forget(app)
        self.keep.reported.pop(app.slug, None)

    def _disconnect(self, app: App, actor: User | None, reason: str, when: datetime) -> None:
        installation = self._installation(app)
        if actor is None:  # the app revoked its refresh token
            grant = self.session.scalar(select(Grant).where(
                Grant.installation_id == installation.id, Grant.revoked_at.is_(None)))
            lifecycle.revoke_grant(self.session, grant.id, reason, now=when)
        else:
            lifecycle.disconnect(self.session, installation, actor, reason, now=when)
        self._forget(app)

    def _expire(self, when: datetime) -> None:
        report = expiry.expire_refresh_tokens(self.session, now=when, ttl_days=self.ttl_days)
        for installation_id in report.expired:
            installation = self.session.get(Installation, installation_id)
            if installation.workspace_id == self.workspace.id:
                self._forget(installation.app)

    # --- after the histories -----------------------------------------------------------------

    def finish(self, scenarios: list[dict]) -> None:
        """The apps still connected refreshed their tokens lately; multi-account apps report
        their accounts (those missing, on every run)."""
        for (slug, key), issued in list(self.keep.tokens.items()):
            refreshed = rotate_tokens(self.session, issued.row, timedelta(days=self.ttl_days),
                                      self.now - LAST_REFRESH)
            record = self.keep.connections[slug][key]
            self.keep.connections[slug][key] = token_record(
                record["workspace"], record["user"], refreshed.access_token,
                refreshed.refresh_token, refreshed.expires_in, refreshed.scope,
                self.now - LAST_REFRESH)
            self.keep.connections[slug][key]["connected_at"] = record["connected_at"]
        for scenario in scenarios:
            if not scenario.get("accounts"):
                continue
            installation = self._installation(self.apps[scenario["app"]])
            known = {a.external_id for a in external_accounts.list_accounts(self.session,
                                                                             installation)}
            for external_id, name, status in scenario["accounts"]:
                if external_id not in known:
                    external_accounts.add_account(self.session, installation, {
                        "external_id": external_id, "name": name, "status": status})
        self.session.flush()


def _spread(first: datetime, last: datetime, count: int) -> list[datetime]:
    """`count` moments from first to last (first only, for one)."""
    if count <= 1 or last <= first:
        return [first]
    step = (last - first) / (count - 1)
    return [first + step * n for n in range(count)]
