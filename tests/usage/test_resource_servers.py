"""`flask resource-servers register NAME`: credentials shown once, stored hashed; a taken name is
refused unless a new secret is asked for."""
from __future__ import annotations

import json

from sqlalchemy import select

from tests.usage.conftest import ApiServer
from webapp.models import ResourceServer
from webapp.services.oauth.tokens import hash_secret


def register(app, *args):
    return app.test_cli_runner().invoke(
        args=["resource-servers", "register", *args])


def test_register_prints_the_credentials_once_and_stores_the_secret_hashed(app, session):
    result = register(app, "Contacts API")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"name", "client_id", "client_secret"}
    assert printed["name"] == "Contacts API" and printed["client_id"].startswith("rs_")
    assert "not shown again" in result.stderr
    server = session.scalar(select(ResourceServer))
    assert server.client_secret_hash == hash_secret(printed["client_secret"])
    assert printed["client_secret"] not in server.client_secret_hash


def test_registering_a_taken_name_is_refused_and_changes_nothing(app, session):
    first = json.loads(register(app, "Contacts API").stdout)
    again = register(app, "Contacts API")
    assert again.exit_code == 1
    assert "already registered" in again.stderr and "--rotate-secret" in again.stderr
    server = session.scalar(select(ResourceServer))
    assert server.client_secret_hash == hash_secret(first["client_secret"])


def test_rotate_secret_issues_a_new_one_and_the_old_stops_working(app, session, flow, redis):
    first = json.loads(register(app, "Contacts API").stdout)
    rotated = register(app, "Contacts API", "--rotate-secret")
    assert rotated.exit_code == 0, rotated.stderr
    second = json.loads(rotated.stdout)
    assert second["client_id"] == first["client_id"]
    assert second["client_secret"] != first["client_secret"]
    token = flow.tokens()["access_token"]
    old = ApiServer(app.test_client(), first["client_id"], first["client_secret"])
    new = ApiServer(app.test_client(), second["client_id"], second["client_secret"])
    assert old.introspect(token).status_code == 401
    assert new.introspect(token).get_json()["active"] is True


def test_rotate_secret_registers_a_new_name_too(app, session):
    result = register(app, "Files API", "--rotate-secret")
    assert result.exit_code == 0 and json.loads(result.stdout)["name"] == "Files API"


def test_a_name_must_be_given_and_short(app, session):
    blank = register(app, "   ")
    assert blank.exit_code == 1 and "needs a name" in blank.stderr
    long = register(app, "x" * 121)
    assert long.exit_code == 1 and "at most 120 characters" in long.stderr
    assert session.scalar(select(ResourceServer)) is None
