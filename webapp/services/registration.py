"""Registering apps from their manifest: validation, create or update by slug, client
credentials.

Credentials: the first registration issues a client id and a client secret (shown once, stored
hashed). An update keeps both, so running apps keep working, unless `rotate_secret` is asked
for or the app has no secret yet; then a new secret is issued and shown once.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import App, LearningResource, Scope
from webapp.models.app import INSTALL_LEVELS
from webapp.services.errors import InvalidInput
from webapp.services.lifecycle import refresh_flags_for_app
from webapp.services.oauth.tokens import hash_secret
from webapp.services.scopes import load_scope_catalogue
from webapp.services.validation import text_field

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TEXT_FIELDS = {"name": 120, "vendor": 120, "category": 60, "description": 5000, "version": 40}
SCOPE_KINDS = {"required": "required_scopes", "conditionally_required": "conditional_scopes",
               "optional": "optional_scopes"}


class ManifestError(InvalidInput):
    """An invalid manifest; the message names the field."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}", field=field)


@dataclass
class Registration:
    app: App
    created: bool
    client_secret: str | None  # only when a secret was issued now

    def as_json(self) -> dict:
        return {"slug": self.app.slug, "client_id": self.app.client_id,
                "client_secret": self.client_secret}


def _uri(value, field: str) -> str:
    """An absolute http(s) URI without a fragment, compared later exactly as written."""
    if not isinstance(value, str) or not value:
        raise ManifestError(field, "must be an absolute URI")
    # urlsplit silently drops tabs and line breaks: a URI is compared exactly, so refuse them.
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        raise ManifestError(field, "must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ManifestError(field, f"{value!r} is not an absolute http(s) URI")
    if "#" in value:
        raise ManifestError(field, f"{value!r} must not contain a fragment")
    if len(value) > 500:
        raise ManifestError(field, "must be at most 500 characters")
    return value


def _optional_uri(data: dict, field: str) -> str | None:
    value = data.get(field)
    return None if value is None else _uri(value, field)


def _scopes(data: dict, catalogue: set[str]) -> dict[str, list[str]]:
    scopes = data.get("scopes")
    if scopes is None:
        raise ManifestError("scopes", "is missing")
    if not isinstance(scopes, dict):
        raise ManifestError("scopes", "must be an object with required, conditionally_required "
                                      "and optional")
    unknown_kinds = set(scopes) - set(SCOPE_KINDS)
    if unknown_kinds:
        raise ManifestError("scopes", f"unknown kind {', '.join(sorted(unknown_kinds))}")
    if "required" not in scopes:
        raise ManifestError("scopes.required", "is missing")
    result: dict[str, list[str]] = {}
    seen: set[str] = set()
    for kind, column in SCOPE_KINDS.items():
        names = scopes.get(kind, [])
        field = f"scopes.{kind}"
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ManifestError(field, "must be a list of scope names")
        for name in names:
            if name not in catalogue:
                raise ManifestError(field, f"unknown scope {name!r}")
            if name in seen:
                raise ManifestError(field, f"scope {name!r} is listed more than once")
            seen.add(name)
        result[column] = list(names)
    if not seen:
        raise ManifestError("scopes", "the app must ask for at least one scope")
    return result


def _sync_settings(data: dict) -> list[dict]:
    settings = data.get("sync_settings", [])
    if not isinstance(settings, list):
        raise ManifestError("sync_settings", "must be a list")
    keys: set[str] = set()
    result = []
    for index, setting in enumerate(settings):
        field = f"sync_settings[{index}]"
        if not isinstance(setting, dict):
            raise ManifestError(field, "must be an object with key, label, default")
        key = text_field(setting.get("key"), f"{field}.key", 60, ManifestError)
        if key in keys:
            raise ManifestError(f"{field}.key", f"{key!r} is used twice")
        keys.add(key)
        label = text_field(setting.get("label"), f"{field}.label", None, ManifestError)
        default = setting.get("default", False)
        if not isinstance(default, bool):
            raise ManifestError(f"{field}.default", "must be true or false")
        result.append({"key": key, "label": label, "default": default})
    return result


def _resources(data: dict) -> list[dict]:
    resources = data.get("resources", [])
    if not isinstance(resources, list):
        raise ManifestError("resources", "must be a list")
    result = []
    for index, resource in enumerate(resources):
        field = f"resources[{index}]"
        if not isinstance(resource, dict):
            raise ManifestError(field, "must be an object with title, url, minutes")
        title = text_field(resource.get("title"), f"{field}.title", None, ManifestError)
        minutes = resource.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            raise ManifestError(f"{field}.minutes", "must be a positive whole number")
        url = _uri(resource.get("url"), f"{field}.url")
        result.append({"title": title[:200], "url": url, "minutes": minutes})
    return result


def ensure_scope_catalogue(session: Session) -> None:
    """Loads the shipped scope catalogue when the deployment has none yet."""
    if not session.scalar(select(func.count()).select_from(Scope)):
        load_scope_catalogue(session)


def validate_manifest(session: Session, data) -> dict:
    """The manifest as App column values, or ManifestError naming the first bad field."""
    if not isinstance(data, dict):
        raise ManifestError("manifest", "must be a JSON object")
    slug = data.get("slug")
    if slug is None:
        raise ManifestError("slug", "is missing")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise ManifestError("slug", "must be lowercase letters, digits and dashes")
    values: dict = {"slug": slug}
    for field, limit in TEXT_FIELDS.items():
        values[field] = text_field(data.get(field), field, limit, ManifestError)
    install_level = data.get("install_level")
    if install_level is None:
        raise ManifestError("install_level", "is missing")
    if install_level not in INSTALL_LEVELS:
        raise ManifestError("install_level", f"must be one of {', '.join(INSTALL_LEVELS)}")
    values["install_level"] = install_level
    if "install_url" not in data:
        raise ManifestError("install_url", "is missing")
    values["install_url"] = _uri(data["install_url"], "install_url")
    redirect_uris = data.get("redirect_uris")
    if redirect_uris is None:
        raise ManifestError("redirect_uris", "is missing")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise ManifestError("redirect_uris", "must be a non-empty list of absolute URIs")
    values["redirect_uris"] = [_uri(uri, f"redirect_uris[{index}]")
                               for index, uri in enumerate(redirect_uris)]
    values["health_url"] = _optional_uri(data, "health_url")
    values["webhook_url"] = _optional_uri(data, "webhook_url")
    catalogue = set(session.scalars(select(Scope.name)))
    values.update(_scopes(data, catalogue))
    values["sync_settings"] = _sync_settings(data)
    values["resources"] = _resources(data)
    return values


def register_app(session: Session, data, rotate_secret: bool = False) -> Registration:
    """Creates or updates the app named by the manifest's slug. The caller commits."""
    ensure_scope_catalogue(session)
    values = validate_manifest(session, data)
    resources = values.pop("resources")
    app = session.scalar(select(App).where(App.slug == values["slug"]))
    created = app is None
    if created:
        app = App(client_id="ca_" + secrets.token_urlsafe(18))
        session.add(app)
    for field, value in values.items():
        setattr(app, field, value)
    secret = None
    if created or rotate_secret or not app.client_secret_hash:
        secret = secrets.token_urlsafe(32)
        app.client_secret_hash = hash_secret(secret)
    session.flush()
    for resource in list(app.resources):
        session.delete(resource)
    for position, resource in enumerate(resources):
        session.add(LearningResource(app_id=app.id, position=position, **resource))
    session.flush()
    session.expire(app, ["resources"])
    if not created:
        # A new version may ask for more scopes: Update / Upgrade available on installations.
        refresh_flags_for_app(session, app)
    return Registration(app=app, created=created, client_secret=secret)
