"""Contacts API: a small resource server of the console, for the apps it connects.

Every request must carry an access token the console issued (`Authorization: Bearer ...`), and
every request is checked by introspection (RFC 7662) with this API's own resource-server
credentials, naming in `scope` what the endpoint needs. The console counts each of these checks
as one API call of the token's installation (and of that scope), which is where the console's
"API usage" comes from.

  GET  /contacts   the workspace's contacts (needs contacts.read)
  POST /contacts   JSON {"name", "email"}: adds one (needs contacts.write)

Contacts live in memory, a few sample ones per workspace to start with.

Settings (environment):
  CONSOLE_URL              the console, default http://127.0.0.1:5000
  RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET
                           printed by `flask --app wsgi resource-servers register "Contacts API"`
  PORT                     default 8902; HOST default 127.0.0.1
"""
from __future__ import annotations

import os
import threading

import requests
from flask import Flask, jsonify, request

HTTP_TIMEOUT = 5
SAMPLE_CONTACTS = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Grace Hopper", "email": "grace@example.com"},
    {"name": "Katherine Johnson", "email": "katherine@example.com"},
]
NAME_LIMIT = 120
EMAIL_LIMIT = 254


class Refused(Exception):
    """The request may not be served; carries the HTTP answer (RFC 6750 section 3)."""

    def __init__(self, status: int, error: str | None, description: str, scope: str | None = None):
        super().__init__(description)
        self.status, self.error, self.description, self.scope = status, error, description, scope

    def response(self):
        body = {"error": self.error or "unauthorized", "error_description": self.description}
        challenge = 'Bearer realm="contacts"'
        if self.error:
            challenge += f', error="{self.error}"'
        if self.scope:
            challenge += f', scope="{self.scope}"'
        headers = {"WWW-Authenticate": challenge} if self.status in (401, 403) else {}
        return jsonify(body), self.status, headers


class Introspector:
    """Asks the console about a token, with this API's credentials, over a kept-alive session."""

    def __init__(self, console_url: str, client_id: str, client_secret: str):
        self.url = console_url.rstrip("/") + "/oauth/introspect"
        self.http = requests.Session()
        self.http.auth = (client_id, client_secret)

    def about(self, token: str, scope: str) -> dict:
        try:
            response = self.http.post(self.url, timeout=HTTP_TIMEOUT, data={
                "token": token, "token_type_hint": "access_token", "scope": scope})
        except requests.RequestException as error:
            raise Refused(503, "temporarily_unavailable",
                          f"The console cannot be reached ({type(error).__name__}).") from None
        if response.status_code != 200:
            raise Refused(503, "temporarily_unavailable",
                          f"The console refused this API's credentials (HTTP "
                          f"{response.status_code}).")
        return response.json()


class Contacts:
    """Each workspace's contacts, in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_workspace: dict[str, list[dict]] = {}

    def of(self, workspace: str) -> list[dict]:
        with self.lock:
            return list(self.by_workspace.setdefault(workspace, [dict(c) for c in SAMPLE_CONTACTS]))

    def add(self, workspace: str, contact: dict) -> dict:
        with self.lock:
            self.by_workspace.setdefault(workspace, [dict(c) for c in SAMPLE_CONTACTS]).append(
                contact)
        return contact


def _contact_from(body) -> dict:
    if not isinstance(body, dict):
        raise Refused(400, "invalid_request", 'Send JSON {"name": ..., "email": ...}.')
    name, email = body.get("name"), body.get("email")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
        raise Refused(400, "invalid_request", f"name must be 1 to {NAME_LIMIT} characters.")
    if not isinstance(email, str) or "@" not in email or len(email) > EMAIL_LIMIT:
        raise Refused(400, "invalid_request", "email must be an email address.")
    return {"name": name.strip(), "email": email.strip()}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        CONSOLE_URL=os.environ.get("CONSOLE_URL", "http://127.0.0.1:5000"),
        RESOURCE_SERVER_ID=os.environ.get("RESOURCE_SERVER_ID", ""),
        RESOURCE_SERVER_SECRET=os.environ.get("RESOURCE_SERVER_SECRET", ""),
        HOST=os.environ.get("HOST", "127.0.0.1"), PORT=int(os.environ.get("PORT", "8902")),
    )
    app.config.update(config or {})
    contacts = Contacts()

    def introspector() -> Introspector:
        if not app.config["RESOURCE_SERVER_ID"] or not app.config["RESOURCE_SERVER_SECRET"]:
            raise Refused(503, "temporarily_unavailable", "Set RESOURCE_SERVER_ID and "
                          "RESOURCE_SERVER_SECRET (from `resource-servers register`).")
        if "introspector" not in app.extensions:
            app.extensions["introspector"] = Introspector(
                app.config["CONSOLE_URL"], app.config["RESOURCE_SERVER_ID"],
                app.config["RESOURCE_SERVER_SECRET"])
        return app.extensions["introspector"]

    def authorized(scope: str) -> str:
        """The workspace the request's token acts for, once the console says it may do `scope`."""
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Refused(401, None, "Send an access token: Authorization: Bearer TOKEN.")
        about = introspector().about(token.strip(), scope)
        if not about.get("active") or about.get("token_type") != "Bearer":
            raise Refused(401, "invalid_token", "The access token is expired, revoked or unknown.")
        if scope not in (about.get("scope") or "").split():
            raise Refused(403, "insufficient_scope", f"This needs the scope {scope}.", scope=scope)
        return about["workspace"]

    @app.errorhandler(Refused)
    def refused(error: Refused):
        return error.response()

    @app.get("/contacts")
    def list_contacts():
        workspace = authorized("contacts.read")
        return jsonify({"workspace": workspace, "contacts": contacts.of(workspace)})

    @app.post("/contacts")
    def add_contact():
        workspace = authorized("contacts.write")
        contact = contacts.add(workspace, _contact_from(request.get_json(silent=True)))
        return jsonify({"workspace": workspace, "contact": contact}), 201

    return app


if __name__ == "__main__":
    api = create_app()
    api.run(host=api.config["HOST"], port=api.config["PORT"])
