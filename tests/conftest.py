"""Fixtures in the style of the Flask tutorial, with named users.

The database is real: SQLite by default, PostgreSQL when TEST_DB=postgres (at TEST_POSTGRES_URL).
Migrations are applied once per run; every test starts from empty tables.
"""
from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from testsupport.live_server import LiveServer
from webapp import create_app
from tests.html import button, htmx_headers
from webapp.extensions import db, limiter, login_manager
from webapp.models import App, Installation, Team, TeamMember, User, Workspace
from webapp.services.scopes import load_scope_catalogue

PASSWORD = "correct-horse-battery"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _database_url(tmp_path_factory) -> str:
    if os.environ.get("TEST_DB") == "postgres":
        return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db')}/test.sqlite3"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": TEST_REDIS_URL,
        "PUBLIC_URL": "http://localhost",
        "SERVER_NAME": None,
    })
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
    yield app


@pytest.fixture(autouse=True)
def _clean_database(app):
    yield
    limiter.reset()
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def session(app):
    """A session inside an app context, for service tests without HTTP."""
    with app.app_context():
        yield db.session
        db.session.remove()


# One PBKDF2 round instead of scrypt: checking it costs nothing, and check_password_hash reads the
# method from the hash, so the login code under test is production's. Production's own hashing
# (create_user, the demo seed) is untouched and tested to stay scrypt.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")


def make_user(session, workspace: Workspace, email: str, role: str = "user", name: str | None = None,
              active: bool = True) -> User:
    user = User(workspace_id=workspace.id, email=email, role=role, active=active,
                name=name or email.split("@")[0].title(), password_hash=_PASSWORD_HASH)
    session.add(user)
    session.flush()
    return user


def make_team(session, workspace: Workspace, name: str, members: list[User]) -> Team:
    team = Team(workspace_id=workspace.id, name=name)
    session.add(team)
    session.flush()
    for member in members:
        session.add(TeamMember(team_id=team.id, user_id=member.id))
    session.flush()
    return team


def make_app(session, slug: str, **fields) -> App:
    defaults = dict(name=slug.replace("-", " ").title(), vendor="Vendor of " + slug, category="Sales",
                    description=f"{slug} does useful things.", version="1.0.0", install_level="account",
                    install_url=f"http://127.0.0.1:8900/{slug}/install",
                    redirect_uris=[f"http://127.0.0.1:8900/{slug}/callback"],
                    required_scopes=["contacts.read"], conditional_scopes=[],
                    optional_scopes=["contacts.write"], sync_settings=[],
                    client_id="client-" + slug + "-" + secrets.token_hex(4))
    defaults.update(fields)
    app = App(slug=slug, **defaults)
    session.add(app)
    session.flush()
    return app


def make_installation(session, workspace: Workspace, app: App, installed_by: User | None = None,
                      **fields) -> Installation:
    defaults = dict(state="installed", status="connected", installed_version=app.version,
                    granted_scopes=list(app.required_scopes),
                    sync_values={s["key"]: s["default"] for s in app.sync_settings},
                    installed_at=datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc),
                    installed_by_id=installed_by.id if installed_by else None)
    defaults.update(fields)
    installation = Installation(workspace_id=workspace.id, app_id=app.id, **defaults)
    session.add(installation)
    session.flush()
    return installation


@pytest.fixture
def people(session):
    """Named users: super admin, admin and user of Acme; an outsider in Globex."""
    load_scope_catalogue(session)
    acme = Workspace(slug="acme", name="Acme", plan="professional")
    globex = Workspace(slug="globex", name="Globex", plan="professional")
    session.add_all([acme, globex])
    session.flush()
    crew = {
        "acme": acme,
        "globex": globex,
        "super_admin": make_user(session, acme, "alice@acme.test", "super_admin", "Alice Super"),
        "admin": make_user(session, acme, "bob@acme.test", "admin", "Bob Admin"),
        "user": make_user(session, acme, "carol@acme.test", "user", "Carol User"),
        "outsider": make_user(session, globex, "olga@globex.test", "super_admin", "Olga Outsider"),
    }
    session.commit()
    return crew


class FreshUserClient(FlaskClient):
    """Requests reuse the test's app context (the `session` fixture pushes one), so what
    flask-login and Flask-WTF cache on `g` (the current user, the CSRF token) would leak from one
    browser to the next: clear it before every request."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


class Browser:
    """A test client that logs in like a person and sends the CSRF token like htmx does."""

    def __init__(self, client):
        self.client = client
        self.csrf_token: str | None = None

    def login(self, user: User, password: str = PASSWORD):
        """Logs in through the login form, as a person does (for tests of logging in)."""
        page = self.client.get("/login")
        token = login_form_token(page)
        response = self.client.post("/login", data={"email": user.email, "password": password,
                                                    "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self._read_csrf_token()

    def sign_in(self, user: User):
        """Starts the session flask-login's login_user would start, without the form's password
        check (for tests where logging in is not what is tested)."""
        app = self.client.application
        with app.test_request_context(environ_base=self.client.environ_base):
            identifier = login_manager._session_identifier_generator()
        with self.client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["_id"] = identifier
        return self._read_csrf_token()

    def _read_csrf_token(self):
        home = self.client.get("/settings/")
        assert home.status_code == 200, home.status_code
        self.csrf_token = htmx_headers(home)["X-CSRFToken"]
        return self

    def get(self, url, htmx_target: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx_target:
            headers.update({"HX-Request": "true", "HX-Target": htmx_target})
        return self.client.get(url, headers=headers, **kwargs)

    def post(self, url, htmx_target: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        if htmx_target:
            headers.update({"HX-Request": "true", "HX-Target": htmx_target})
        return self.client.post(url, headers=headers, **kwargs)

    def delete(self, url, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        return self.client.delete(url, headers=headers, **kwargs)


def login_form_token(page) -> str:
    """The CSRF token the login form sends."""
    form = button(page, "Log in").find_parent("form")
    return form.find("input", attrs={"name": "csrf_token"})["value"]


@pytest.fixture
def browser(app):
    """Returns a function: browser(user) gives a logged-in Browser for that user."""

    def open_as(user: User | None = None) -> Browser:
        b = Browser(FreshUserClient(app, app.response_class, use_cookies=True))
        return b.sign_in(user) if user is not None else b

    return open_as


@pytest.fixture
def api(app):
    """api(method, url, token=None, **kwargs): a request as an app makes it, with its bearer token."""
    client = app.test_client()

    def call(method, url, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(url, method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def console(app):
    """The console served on a port of its own, for real HTTP clients (the sample app, the demo
    apps' host, a resource server); its URL is the issuer while the test runs."""
    live = LiveServer(app)
    public_url = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = live.url
    yield live.url
    app.config["PUBLIC_URL"] = public_url
    live.stop()
