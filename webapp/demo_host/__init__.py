"""The demo apps' host: every app of the demo catalogue as a small, genuine OAuth client of the
console, on one port (`flask demo host`, DEMO_APPS_URL).

Per app, under /<slug>/: the install page the console's "Install", "Reconnect" and
"Re-authenticate" send the browser to (it starts an authorization request with its own state and
S256 PKCE challenge), the callback (checks state and `iss`, exchanges the code with the app's
client credentials, keeps the tokens, reports a multi-account app's accounts, and sends the
browser back to the app's page in the console) and the health endpoint the console probes. The
control page at / is where a person makes an app's health fail or recover, reports or resolves
an alert as the app, puts an account in error, or disconnects the app from its side, and then
watches the console change.

The seed registers the apps and writes their credentials (and the tokens of the seeded
installations) to the demo apps file, which this host reads and updates (see store.py).
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, abort, request, session

from webapp.demo_host.console import Console
from webapp.demo_host.store import DemoAppsFile

HERE = Path(__file__).resolve().parent


def create_host(config: dict) -> Flask:
    """`config`: CONSOLE_URL (the console's PUBLIC_URL), BASE_URL (DEMO_APPS_URL), APPS_FILE;
    optionally SECRET_KEY, HEALTH_DELAY (seconds a "timing out" health endpoint waits) and
    CONSOLE_TRANSPORT (an httpx transport, for tests)."""
    host = Flask(__name__, root_path=str(HERE))
    host.config.update(
        SECRET_KEY=secrets.token_hex(32),
        # The console runs on the same host name, and cookies ignore ports: a name of our own.
        SESSION_COOKIE_NAME="demo_apps_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        HEALTH_DELAY=8.0,
    )
    host.config.update(config)
    host.config["BASE_URL"] = host.config["BASE_URL"].rstrip("/")
    host.extensions["demo_console"] = Console(host.config["CONSOLE_URL"],
                                              host.config.get("CONSOLE_TRANSPORT"))
    host.extensions["demo_apps_file"] = DemoAppsFile(host.config["APPS_FILE"])

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    host.jinja_env.globals["csrf_token"] = csrf_token

    @host.before_request
    def check_csrf():
        if request.method == "POST" and not secrets.compare_digest(
                request.form.get("csrf", ""), session.get("csrf", "") or "-"):
            abort(400, description="The form expired; reload the page and try again.")

    @host.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    from webapp.demo_host.views import bp

    host.register_blueprint(bp)
    return host
