"""The marketplace: search over the deployment's catalogue, seen from one workspace."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from webapp.models import App, Installation, LearningResource
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.installations import ScopeView, load_scope_catalogue_for, scope_view

SCOPE_KINDS = (("required", "Required"), ("conditional", "Conditionally required"),
               ("optional", "Optional"))
MAX_QUERY_LENGTH = 100


class UnknownCategory(InvalidInput):
    pass


@dataclass(frozen=True)
class AppCard:
    app: App
    installed: bool


@dataclass
class Listing:
    app: App
    installed: bool
    installation_state: str | None
    scopes_by_kind: list[tuple[str, list[ScopeView]]]
    not_covered: list[ScopeView]
    resources: list[LearningResource]


def _installed_in(workspace_id: int):
    return exists().where(Installation.app_id == App.id, Installation.workspace_id == workspace_id,
                          Installation.state == "installed")


def categories(session: Session) -> list[str]:
    return list(session.scalars(select(App.category).distinct().order_by(App.category)))


def parse_category(value: str | None, known: list[str]) -> str | None:
    if not value:
        return None
    if value not in known:
        raise UnknownCategory(f"Unknown category “{value[:60]}”. Choose a category from the list.")
    return value


def search_apps(session: Session, workspace_id: int, query: str | None = None,
                category: str | None = None) -> list[AppCard]:
    """Apps whose name, vendor, description or category contain `query` (any case), in one query."""
    statement = (select(App, _installed_in(workspace_id).label("installed"))
                 .order_by(App.name, App.id))
    terms = (query or "").strip()[:MAX_QUERY_LENGTH]
    if terms:
        statement = statement.where(or_(*(column.icontains(terms, autoescape=True)
                                          for column in (App.name, App.vendor, App.description,
                                                         App.category))))
    if category:
        statement = statement.where(App.category == category)
    return [AppCard(app, bool(installed)) for app, installed in session.execute(statement)]


def discover_apps(session: Session, workspace_id: int, limit: int = 4) -> list[App]:
    """A few catalogue apps the workspace has not installed (never, or not any more) and could
    install: an app without an install page cannot be installed from here, so it is no tip."""
    return list(session.scalars(select(App).where(~_installed_in(workspace_id),
                                                  App.install_url.is_not(None),
                                                  App.install_url != "")
                                .order_by(App.name, App.id).limit(limit)))


def app_by_slug(session: Session, slug: str) -> App:
    app = session.scalar(select(App).where(App.slug == slug))
    if app is None:
        raise NotFound("There is no such app in the marketplace.")
    return app


def listing(session: Session, workspace_id: int, plan: str, app: App) -> Listing:
    """What the listing page shows: scopes by kind, those the plan does not cover, resources."""
    state = session.scalar(select(Installation.state).where(
        and_(Installation.workspace_id == workspace_id, Installation.app_id == app.id)))
    catalogue = load_scope_catalogue_for(session, app.all_scopes)
    kinds = {"required": app.required_scopes, "conditional": app.conditional_scopes,
             "optional": app.optional_scopes}
    by_kind, not_covered = [], []
    for key, label in SCOPE_KINDS:
        entries = []
        for name in kinds[key] or []:
            view = scope_view(name, catalogue, plan)
            entries.append(view)
            if not view.covered and view not in not_covered:
                not_covered.append(view)
        by_kind.append((label, entries))
    resources = list(session.scalars(select(LearningResource).where(LearningResource.app_id == app.id)
                                     .order_by(LearningResource.position, LearningResource.id)))
    return Listing(app=app, installed=state == "installed", installation_state=state,
                   scopes_by_kind=by_kind, not_covered=not_covered, resources=resources)
