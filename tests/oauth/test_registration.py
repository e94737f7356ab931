"""`flask apps register MANIFEST.json`: validation, credentials, updates."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from webapp.models import App, Installation, LearningResource, Scope
from webapp.services import lifecycle
from webapp.services.oauth.tokens import hash_secret


def manifest(**changes) -> dict:
    data = {
        "slug": "acme-sync", "name": "Acme Sync", "vendor": "Acme", "category": "Sales",
        "description": "Two-way contact sync.", "version": "1.2.0", "install_level": "account",
        "install_url": "http://127.0.0.1:8900/install",
        "redirect_uris": ["http://127.0.0.1:8900/callback"],
        "scopes": {"required": ["contacts.read"], "conditionally_required": [],
                   "optional": ["contacts.write"]},
        "health_url": None, "webhook_url": None,
        "sync_settings": [{"key": "contact_sync", "label": "Contact sync", "default": True}],
        "resources": [{"title": "Getting started with Acme Sync", "url": "https://example.com/v/1",
                       "minutes": 4}],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != "DROP"}


@pytest.fixture
def register(app, tmp_path):
    runner = app.test_cli_runner()

    def run(data, *options):
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps(data) if not isinstance(data, str) else data)
        return runner.invoke(args=["apps", "register", str(path), *options])

    return run


def test_first_registration_prints_credentials_once_and_stores_the_secret_hashed(register, session):
    result = register(manifest())
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout.splitlines()[0])
    assert printed["slug"] == "acme-sync" and printed["client_id"] and printed["client_secret"]
    app = session.scalar(select(App).where(App.slug == "acme-sync"))
    assert app.client_id == printed["client_id"]
    assert app.client_secret_hash == hash_secret(printed["client_secret"])
    assert printed["client_secret"] not in (app.client_secret_hash, app.client_id)
    assert (app.name, app.vendor, app.version, app.install_level) == (
        "Acme Sync", "Acme", "1.2.0", "account")
    assert app.redirect_uris == ["http://127.0.0.1:8900/callback"]
    assert (app.required_scopes, app.optional_scopes) == (["contacts.read"], ["contacts.write"])
    assert [r.title for r in session.scalars(select(LearningResource))] == [
        "Getting started with Acme Sync"]


def test_it_loads_the_scope_catalogue_when_there_is_none(register, session):
    assert session.scalar(select(func.count()).select_from(Scope)) == 0
    assert register(manifest()).exit_code == 0
    assert session.scalar(select(func.count()).select_from(Scope)) >= 20


def test_update_keeps_client_id_and_secret(register, session):
    first = json.loads(register(manifest()).stdout.splitlines()[0])
    result = register(manifest(version="1.3.0", name="Acme Sync Plus"))
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout.splitlines()[0])
    assert second == {"slug": "acme-sync", "client_id": first["client_id"], "client_secret": None}
    assert "unchanged" in result.stderr
    app = session.scalar(select(App))
    assert app.client_secret_hash == hash_secret(first["client_secret"])
    assert (app.version, app.name) == ("1.3.0", "Acme Sync Plus")
    assert session.scalar(select(func.count()).select_from(App)) == 1


def test_rotate_secret_issues_a_new_one(register, session):
    first = json.loads(register(manifest()).stdout.splitlines()[0])
    rotated = json.loads(register(manifest(), "--rotate-secret").stdout.splitlines()[0])
    assert rotated["client_secret"] and rotated["client_secret"] != first["client_secret"]
    assert rotated["client_id"] == first["client_id"]
    assert session.scalar(select(App)).client_secret_hash == hash_secret(rotated["client_secret"])


def test_new_version_asking_for_more_scopes_makes_update_available(register, session, people):
    register(manifest())
    app = session.scalar(select(App))
    lifecycle.consent(session, people["acme"], app, people["admin"],
                      ["contacts.read", "contacts.write"])
    session.commit()
    installation = session.scalar(select(Installation))
    assert installation.update_available is False

    more = manifest(version="2.0.0", scopes={"required": ["contacts.read"],
                                             "optional": ["contacts.write", "files.read"]})
    assert register(more).exit_code == 0
    session.expire_all()
    installation = session.scalar(select(Installation))
    assert installation.update_available is True
    assert lifecycle.scopes_for_reauthentication(session, installation) == ["files.read"]


@pytest.mark.parametrize("field", ["slug", "name", "vendor", "category", "description", "version",
                                   "install_level", "install_url", "redirect_uris", "scopes"])
def test_missing_field_is_refused_naming_it(register, session, field):
    result = register(manifest(**{field: "DROP"}))
    assert result.exit_code != 0
    assert f"{field}: is missing" in result.stderr
    assert session.scalar(select(func.count()).select_from(App)) == 0


@pytest.mark.parametrize("changes, field", [
    ({"scopes": {"required": ["contacts.read", "made.up"]}}, "scopes.required"),
    ({"scopes": {"required": ["contacts.read"], "optional": ["nope"]}}, "scopes.optional"),
    ({"scopes": {"optional": ["contacts.read"]}}, "scopes.required"),
    ({"install_level": "galaxy"}, "install_level"),
    ({"install_url": "/install"}, "install_url"),
    ({"redirect_uris": ["/callback"]}, "redirect_uris[0]"),
    ({"redirect_uris": ["https://app.example/cb#frag"]}, "redirect_uris[0]"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris[0]"),
    ({"redirect_uris": []}, "redirect_uris"),
    ({"health_url": "ftp://x.example/h"}, "health_url"),
    ({"health_url": "https://x.example/he\nalth"}, "health_url"),
    ({"redirect_uris": ["https://app.example/c\tb"]}, "redirect_uris[0]"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"name": ""}, "name"),
    ({"sync_settings": [{"key": "a", "label": "A", "default": "yes"}]}, "sync_settings[0].default"),
    ({"resources": [{"title": "T", "url": "https://e.example", "minutes": 0}]}, "resources[0].minutes"),
])
def test_invalid_manifest_is_refused_naming_the_field(register, session, changes, field):
    result = register(manifest(**changes))
    assert result.exit_code != 0
    assert f"invalid manifest: {field}:" in result.stderr
    assert session.scalar(select(func.count()).select_from(App)) == 0


def test_malformed_json_is_refused(register):
    result = register("{not json")
    assert result.exit_code != 0 and "not valid JSON" in result.stderr
