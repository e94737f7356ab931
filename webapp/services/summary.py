"""The overview's numbers: the app summary, Academy resources and apps to discover.

The summary reads the installations table only (one aggregate query), never the events table, so
its cost does not grow with the log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from webapp.models import App, Installation, LearningResource
from webapp.services.installations import status_condition


class SummaryItem(NamedTuple):
    label: str
    number: int
    status_filter: str  # the My apps "Status" filter that lists exactly these installations


# Field of AppSummary -> (label, My apps filter), in the order the overview shows them.
ITEMS = {
    "connected_apps": ("Connected apps", "any"),
    "disconnected": ("Disconnected", "disconnected_or_expired"),
    "errors": ("Errors", "error"),
    "updates_available": ("Updates available", "update_available"),
    "upgrades_available": ("Upgrades available", "upgrade_available"),
}


@dataclass(frozen=True)
class AppSummary:
    connected_apps: int = 0
    disconnected: int = 0
    errors: int = 0
    updates_available: int = 0
    upgrades_available: int = 0

    def items(self) -> list[SummaryItem]:
        return [SummaryItem(label, getattr(self, name), status_filter)
                for name, (label, status_filter) in ITEMS.items()]


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def app_summary(session: Session, workspace_id: int) -> AppSummary:
    """Counts over installed installations of apps that are not multi-account (those have no
    status of their own: each of their external accounts has one), each with the condition of
    the My apps filter its number links to."""
    row = session.execute(
        select(*(_count_where(status_condition(status_filter))
                 for _, status_filter in ITEMS.values()))
        .select_from(Installation).join(App, App.id == Installation.app_id)
        .where(Installation.workspace_id == workspace_id, Installation.state == "installed",
               App.install_level != "multi_account")
    ).one()
    return AppSummary(**{name: int(value or 0) for name, value in zip(ITEMS, row)})


def general_resources(session: Session, limit: int = 5) -> list[LearningResource]:
    """Academy resources not tied to one app, for the overview."""
    return list(session.scalars(select(LearningResource).where(LearningResource.app_id.is_(None))
                                .order_by(LearningResource.position, LearningResource.id)
                                .limit(limit)))
