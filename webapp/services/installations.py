"""Installations as the console shows them: lists, status filter, scope groups and flags.

The scope grouping and the flags are pure functions, so the lifecycle (registration, grants) can
use them to keep `update_available` and `upgrade_available` true to the app page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import Alert, App, Installation, Scope
from webapp.models.workspace import PLANS, plan_rank
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.usage.queries import not_used_in

# Values of My apps' "Status" filter -> label; "" means every installed app. Every other value
# leaves multi-account apps out: they have no status of their own (nor a place in the summary).
STATUS_FILTERS = {
    "any": "Any status",
    "connected": "Connected",
    "disconnected_or_expired": "Disconnected or expired",
    "disconnected": "Disconnected",
    "expired": "Expired",
    "error": "Error",
    "update_available": "Update available",
    "upgrade_available": "Upgrade available",
}
# How the rows a filter shows are told ("3 apps with an update available").
FILTER_PHRASES = {
    "any": "with a status",
    "disconnected_or_expired": "disconnected or expired",
    "update_available": "with an update available",
    "upgrade_available": "with an upgrade available",
}
STATUS_LABELS = {"connected": "Connected", "error": "Error", "expired": "Expired",
                 "disconnected": "Disconnected"}


class UnknownStatus(InvalidInput):
    pass


@dataclass(frozen=True)
class ScopeView:
    """One scope as a page lists it (app page, marketplace listing, install dialog, consent):
    its catalogue entry and the marks the list shows beside it."""

    name: str
    description: str
    sensitivity: str
    min_plan: str
    covered: bool = True  # False when the workspace's plan does not include it
    new: bool = False  # asked for again while a grant is in force, and not granted yet


@dataclass
class ScopeGroups:
    authorized: list[ScopeView] = field(default_factory=list)
    requires_upgrade: list[ScopeView] = field(default_factory=list)
    available_after_reauth: list[ScopeView] = field(default_factory=list)
    # Granted, but no token can use them: the installation is disconnected or expired.
    unusable: bool = False


@dataclass(frozen=True)
class Flags:
    update_available: bool
    upgrade_available: bool


def plan_covers(plan: str, min_plan: str) -> bool:
    """True when a workspace on `plan` may grant a scope that needs `min_plan`."""
    if min_plan not in PLANS:
        return False
    return plan_rank(plan) >= plan_rank(min_plan)


def scope_view(name: str, scope_catalogue: dict[str, Scope], plan: str | None = None,
               new: bool = False) -> ScopeView:
    """The scope `name` as listed; with a plan, marked when that plan does not cover it."""
    scope = scope_catalogue.get(name)
    if scope is None:  # an app may still name a scope the catalogue has since dropped
        return ScopeView(name, "Not in this deployment's scope catalogue.", "read", "free", new=new)
    return ScopeView(scope.name, scope.description, scope.sensitivity, scope.min_plan,
                     covered=plan is None or plan_covers(plan, scope.min_plan), new=new)


def _granted(granted: Installation | list[str]) -> list[str]:
    scopes = granted.granted_scopes if isinstance(granted, Installation) else granted
    return list(dict.fromkeys(scopes or []))


def scope_groups(app: App, granted: Installation | list[str], plan: str,
                 scope_catalogue: dict[str, Scope]) -> ScopeGroups:
    """Authorized = granted; of the rest the app's current version asks for, those beyond the
    plan require an upgrade and those within it are available after re-authentication.

    `granted` is an installation or a list of granted scope names (e.g. before a grant exists).
    """
    groups = ScopeGroups()
    granted = _granted(granted)
    groups.authorized = [scope_view(name, scope_catalogue) for name in granted]
    for name in app.all_scopes:
        if name in granted:
            continue
        view = scope_view(name, scope_catalogue, plan)
        (groups.available_after_reauth if view.covered else groups.requires_upgrade).append(view)
    return groups


def app_page_scope_groups(app: App, installation: Installation, plan: str,
                          scope_catalogue: dict[str, Scope]) -> ScopeGroups:
    """The groups of an app's page. An uninstalled app has no scope authorized (its tokens are
    revoked) and none available after re-authentication (installing it again asks for every
    scope afresh); a disconnected or expired one keeps its grant's scopes, unusable until
    reconnected."""
    if installation.state != "installed":
        groups = scope_groups(app, [], plan, scope_catalogue)
        groups.available_after_reauth = []
        return groups
    groups = scope_groups(app, installation, plan, scope_catalogue)
    groups.unusable = (app.install_level != "multi_account"
                       and installation.status in ("disconnected", "expired"))
    return groups


def compute_flags(app: App, granted: Installation | list[str], plan: str,
                  scope_catalogue: dict[str, Scope]) -> Flags:
    groups = scope_groups(app, granted, plan, scope_catalogue)
    return Flags(update_available=bool(groups.available_after_reauth),
                 upgrade_available=bool(groups.requires_upgrade))


def load_scope_catalogue_for(session: Session, names: list[str]) -> dict[str, Scope]:
    """The catalogue entries of the given scope names, in one query."""
    if not names:
        return {}
    return {scope.name: scope
            for scope in session.scalars(select(Scope).where(Scope.name.in_(set(names))))}


def filter_phrase(value: str) -> str:
    return FILTER_PHRASES.get(value, f"with the status {STATUS_FILTERS[value]}")


def status_condition(value: str) -> ColumnElement[bool]:
    """Which installations (installed, not multi-account) the filter `value` shows; the app
    summary counts with the same conditions, so each number and its filtered list agree."""
    if value == "any":
        return true()
    if value == "disconnected_or_expired":
        return Installation.status.in_(("disconnected", "expired"))
    if value == "update_available":
        return Installation.update_available.is_(True)
    if value == "upgrade_available":
        return Installation.upgrade_available.is_(True)
    if value in STATUS_LABELS:
        return Installation.status == value
    raise ValueError(f"unknown status filter {value!r}")


def parse_status_filter(value: str | None) -> str | None:
    """"" or None means all; anything else must be a status the filter offers."""
    if not value:
        return None
    if value not in STATUS_FILTERS:
        raise UnknownStatus(f"Unknown status “{value[:40]}”. Choose one of: "
                            + ", ".join(STATUS_FILTERS.values()) + ".")
    return value


def installed_installations(session: Session, workspace_id: int, status: str | None = None,
                            not_used_for: int | None = None, now: datetime | None = None
                            ) -> list[Installation]:
    """Installed installations of the workspace, by app name; app and installer come joined.

    With a status filter (see STATUS_FILTERS), multi-account apps are left out: they have no
    status of their own. With `not_used_for` days, only those installed that long ago and not
    used since (as of `now`).
    """
    query = (select(Installation).join(Installation.app)
             .where(Installation.workspace_id == workspace_id, Installation.state == "installed")
             .order_by(App.name, Installation.id))
    if status:
        query = query.where(status_condition(status), App.install_level != "multi_account")
    if not_used_for:
        query = query.where(not_used_in(not_used_for, now or utcnow()))
    return list(session.scalars(query).unique())


def installation_for_slug(session: Session, workspace_id: int, slug: str) -> Installation:
    """The workspace's installation of the app `slug` (installed or uninstalled); NotFound when it
    never had one (another workspace's installation, or no such app, is not found either)."""
    installation = session.scalar(select(Installation).join(Installation.app)
                                  .where(Installation.workspace_id == workspace_id, App.slug == slug))
    if installation is None:
        raise NotFound("This app is not installed in your workspace.")
    return installation


def open_alerts(session: Session, installation: Installation) -> list[Alert]:
    return list(session.scalars(
        select(Alert).where(Alert.workspace_id == installation.workspace_id,
                            Alert.installation_id == installation.id, Alert.resolved_at.is_(None))
        .order_by(Alert.last_seen.desc(), Alert.id.desc())))


def sync_rows(app: App, installation: Installation) -> list[dict]:
    """Each sync setting the app offers with this installation's value (the default when unset)."""
    values = installation.sync_values or {}
    return [{"key": setting["key"], "label": setting.get("label", setting["key"]),
             "on": bool(values.get(setting["key"], setting.get("default", False)))}
            for setting in app.sync_settings or []]
