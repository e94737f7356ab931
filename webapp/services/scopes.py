"""The deployment's scope catalogue, shipped as data and loaded into the scopes table."""
from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import PLANS, Scope
from webapp.models.app import SENSITIVITIES


def default_scope_catalogue() -> list[dict]:
    return json.loads(resources.files("webapp").joinpath("data/scopes.json").read_text())


def load_scope_catalogue(session: Session, entries: list[dict] | None = None) -> int:
    """Creates or updates every scope of the catalogue; returns how many there are."""
    entries = default_scope_catalogue() if entries is None else entries
    existing = {scope.name: scope for scope in session.scalars(select(Scope))}
    for entry in entries:
        if entry["min_plan"] not in PLANS or entry["sensitivity"] not in SENSITIVITIES:
            raise ValueError(f"scope {entry['name']}: bad min_plan or sensitivity")
        scope = existing.get(entry["name"]) or Scope(name=entry["name"])
        scope.description = entry["description"]
        scope.min_plan = entry["min_plan"]
        scope.sensitivity = entry["sensitivity"]
        session.add(scope)
    session.flush()
    return len(entries)
