"""Reading API usage for the pages: calls per day, last use, unused scopes, the My apps filter.

Usage is known per UTC hour, so "last used" is the start of the last hour with a call, and the
calls of the last minute (not yet folded) are not included. Days are the workspace's days: an
hour's calls count on the day, in the workspace's time zone, in which that hour starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from webapp.models import Grant, Installation, UsageHourly, Workspace
from webapp.services.errors import InvalidInput
from webapp.services.usage.counting import hour_of

USAGE_FILTER_DAYS = (30, 60, 90)
UNUSED_AFTER_DAYS = 90
TOTAL = ""  # the scope of an installation's total


@dataclass(frozen=True)
class DailyCalls:
    day: date
    calls: int


@dataclass(frozen=True)
class ScopeUsage:
    name: str
    last_used: datetime | None
    unused: bool  # granted at least UNUSED_AFTER_DAYS ago and not used since


@dataclass(frozen=True)
class InstallationUsage:
    daily: list[DailyCalls]
    calls: int  # over the days of `daily`
    last_used: datetime | None
    scopes: list[ScopeUsage]


def _zone(session: Session, workspace_id: int) -> ZoneInfo:
    name = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _of(installation: Installation):
    return (UsageHourly.installation_id == installation.id,
            UsageHourly.workspace_id == installation.workspace_id)


def daily_calls(session: Session, installation: Installation, now: datetime,
                days: int = 30) -> list[DailyCalls]:
    """Calls per day over the last `days` days of the workspace's calendar, today last, days
    without calls included with 0."""
    zone = _zone(session, installation.workspace_id)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = hour_of(datetime.combine(first, time(0), zone))
    rows = session.execute(select(UsageHourly.hour, UsageHourly.calls).where(
        *_of(installation), UsageHourly.scope == TOTAL, UsageHourly.hour >= start))
    per_day = {first + timedelta(days=offset): 0 for offset in range(days)}
    for hour, calls in rows:
        day = hour.astimezone(zone).date()
        if day in per_day:
            per_day[day] += calls
    return [DailyCalls(day, calls) for day, calls in per_day.items()]


def last_used(session: Session, installation: Installation) -> datetime | None:
    """The start (UTC) of the last hour in which the installation made an API call."""
    return session.scalar(select(func.max(UsageHourly.hour)).where(
        *_of(installation), UsageHourly.scope == TOTAL))


def scopes_last_used(session: Session, installation: Installation) -> dict[str, datetime]:
    """Per scope, the start (UTC) of the last hour with a call that needed it."""
    rows = session.execute(select(UsageHourly.scope, func.max(UsageHourly.hour)).where(
        *_of(installation), UsageHourly.scope != TOTAL).group_by(UsageHourly.scope))
    return {scope: hour for scope, hour in rows}


def _granted_since(session: Session, installation: Installation) -> dict[str, datetime]:
    """When each scope in force was first granted by a grant still in force."""
    since: dict[str, datetime] = {}
    grants = session.execute(select(Grant.created_at, Grant.scopes).where(
        Grant.installation_id == installation.id, Grant.workspace_id == installation.workspace_id,
        Grant.revoked_at.is_(None)))
    for created_at, scopes in grants:
        for scope in scopes or []:
            if scope not in since or created_at < since[scope]:
                since[scope] = created_at
    return since


def _scope_usage(session: Session, installation: Installation, now: datetime,
                 days: int) -> list[ScopeUsage]:
    if installation.state != "installed":
        return []
    used = scopes_last_used(session, installation)
    since = _granted_since(session, installation)
    cutoff = now - timedelta(days=days)
    result = []
    for name in installation.granted_scopes or []:
        granted_at = since.get(name, installation.installed_at)
        last = used.get(name)
        unused = granted_at <= cutoff and (last is None or last < hour_of(cutoff))
        result.append(ScopeUsage(name=name, last_used=last, unused=unused))
    return result


def unused_scopes(session: Session, installation: Installation, now: datetime,
                  days: int = UNUSED_AFTER_DAYS) -> list[str]:
    """Scopes granted at least `days` days ago that no API call has needed since."""
    return [scope.name for scope in _scope_usage(session, installation, now, days) if scope.unused]


def installation_usage(session: Session, installation: Installation, now: datetime,
                       days: int = 30) -> InstallationUsage:
    """Everything the app page's "API usage" section shows."""
    daily = daily_calls(session, installation, now, days)
    return InstallationUsage(daily=daily, calls=sum(day.calls for day in daily),
                             last_used=last_used(session, installation),
                             scopes=_scope_usage(session, installation, now, UNUSED_AFTER_DAYS))


def last_used_by_installation(session: Session, workspace_id: int,
                              installation_ids: list[int]) -> dict[int, datetime]:
    """Last used (start of the last hour with a call) of each installation that has one, in one
    query; installations never used are absent."""
    if not installation_ids:
        return {}
    rows = session.execute(
        select(UsageHourly.installation_id, func.max(UsageHourly.hour))
        .where(UsageHourly.workspace_id == workspace_id, UsageHourly.scope == TOTAL,
               UsageHourly.installation_id.in_(list(installation_ids)))
        .group_by(UsageHourly.installation_id))
    return {installation_id: hour for installation_id, hour in rows}


def not_used_in(days: int, now: datetime) -> ColumnElement[bool]:
    """A condition on Installation for My apps' "Not used in N days": installed at least N days
    ago and no API call in the last N days (an app installed last week is not stale)."""
    cutoff = now - timedelta(days=days)
    used = select(UsageHourly.id).where(
        UsageHourly.installation_id == Installation.id,
        UsageHourly.workspace_id == Installation.workspace_id,
        UsageHourly.scope == TOTAL, UsageHourly.hour >= hour_of(cutoff)).exists()
    return and_(Installation.installed_at <= cutoff, ~used)


def parse_usage_filter(value: str | None) -> int | None:
    """The "Usage" filter's value: None for "Any", else the number of days."""
    if value in (None, "", "any"):
        return None
    for days in USAGE_FILTER_DAYS:  # compared as text: "²".isdigit() holds, int("²") fails
        if value == str(days):
            return days
    choices = ", ".join(f"{days}" for days in USAGE_FILTER_DAYS)
    raise InvalidInput(f"The usage filter must be Any or one of {choices} days.", field="usage")
