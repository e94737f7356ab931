"""The overview's numbers: the app summary, Academy resources and apps to discover.

The summary reads the installations table only (one aggregate query), never the events table, so
its cost does not grow with the log.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from webapp.models import App, Installation, LearningResource


@dataclass(frozen=True)
class AppSummary:
    connected_apps: int = 0
    disconnected: int = 0
    errors: int = 0
    updates_available: int = 0
    upgrades_available: int = 0

    def items(self) -> list[tuple[str, int]]:
        """(label, number) in the order the overview shows them."""
        return [("Connected apps", self.connected_apps), ("Disconnected", self.disconnected),
                ("Errors", self.errors), ("Updates available", self.updates_available),
                ("Upgrades available", self.upgrades_available)]


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def app_summary(session: Session, workspace_id: int) -> AppSummary:
    """Counts over installed installations of apps that are not multi-account: those have no
    status of their own (each of their external accounts has one)."""
    row = session.execute(
        select(func.count(Installation.id),
               _count_where(Installation.status.in_(("disconnected", "expired"))),
               _count_where(Installation.status == "error"),
               _count_where(Installation.update_available.is_(True)),
               _count_where(Installation.upgrade_available.is_(True)))
        .select_from(Installation).join(App, App.id == Installation.app_id)
        .where(Installation.workspace_id == workspace_id, Installation.state == "installed",
               App.install_level != "multi_account")
    ).one()
    return AppSummary(*(int(value or 0) for value in row))


def general_resources(session: Session, limit: int = 5) -> list[LearningResource]:
    """Academy resources not tied to one app, for the overview."""
    return list(session.scalars(select(LearningResource).where(LearningResource.app_id.is_(None))
                                .order_by(LearningResource.position, LearningResource.id)
                                .limit(limit)))
