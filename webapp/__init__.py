"""Application factory: settings, extensions, blueprints. No I/O happens here."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from webapp.database import MAX_ID
from webapp.settings import load_settings

MIGRATIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, "migrations"))

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


class IdConverter(IntegerConverter):
    """`<int:...>` bounded by what an integer id column holds: a larger number in a URL is a 404,
    not a database driver's overflow error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter
    settings = load_settings(instance_path=app.instance_path)
    app.config.update(settings.flask_config())
    app.config["APP_ENV"] = settings.env
    if overrides:
        app.config.update(overrides)

    from webapp import extensions as ext
    from webapp import models  # noqa: F401  (registers every table)
    from webapp.session_store import ServerSessionInterface

    app.session_interface = ServerSessionInterface()

    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    ext.login_manager.init_app(app)
    ext.login_manager.login_view = "auth.login"
    ext.login_manager.login_message = "Please log in to continue."
    ext.csrf.init_app(app)
    ext.htmx.init_app(app)
    ext.limiter.init_app(app)

    from webapp.services.oauth.server import ConsoleAuthorizationServer

    app.extensions["oauth_server"] = ConsoleAuthorizationServer(ext.db.session, app.config,
                                                                usage_counter=ext.usage_counter)

    from webapp.blueprints import register_blueprints
    from webapp.cli import register_cli
    from webapp.errors_http import register_error_handlers
    from webapp.request_guard import register_request_guard
    from webapp.web import register_web

    register_request_guard(app)
    register_web(app)
    register_error_handlers(app)
    register_blueprints(app)
    register_cli(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
