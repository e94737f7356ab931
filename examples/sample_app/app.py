"""Sample Notes: a small, separate Flask app that is a genuine OAuth 2.0 client of the console.

It installs itself the way real apps do: the console's "Install" sends the browser to /install,
which starts an authorization request (state + PKCE S256), /callback checks state and `iss`
(RFC 9207) and exchanges the code; tokens are kept in a JSON file, refreshed (rotating), checked
by introspection, and revoked on "Disconnect". "Load contacts" calls the example contacts API
(examples/contacts_api) with the access token, as an app uses the APIs it was granted.

Settings (environment):
  CONSOLE_URL            the console, default http://127.0.0.1:5000
  CLIENT_ID, CLIENT_SECRET   printed by `flask --app wsgi apps register examples/sample_app/manifest.json`
  PORT                   default 8900; HOST default 127.0.0.1
  SAMPLE_APP_URL         this app's own base URL, default http://HOST:PORT (redirect URI = it + /callback)
  SAMPLE_APP_STATE       the token file, default instance/tokens.json beside this file
  SAMPLE_APP_SCOPES      scopes to ask for (space-separated); default: every scope the app's
                         registered version asks for
  SAMPLE_APP_SECRET_KEY  signs this app's session cookie; random per process by default
  CONTACTS_API_URL       the contacts API, default http://127.0.0.1:8902
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import requests
from flask import Flask, abort, flash, redirect, render_template, request, session, url_for

HERE = Path(__file__).resolve().parent
HTTP_TIMEOUT = 10
MAX_PENDING = 5  # authorization requests in flight per browser


class ConsoleError(Exception):
    """The console refused a request; the message is its error_description."""


class TokenStore:
    """The connections (one per workspace) in a JSON file, written atomically, owner-only."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def all(self) -> dict:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def get(self, workspace: str) -> dict | None:
        return self.all().get(workspace)

    def put(self, workspace: str, record: dict) -> None:
        data = self.all()
        data[workspace] = record
        self._write(data)

    def forget(self, workspace: str) -> None:
        data = self.all()
        data.pop(workspace, None)
        self._write(data)

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)


class Console:
    """The console seen from this client: its metadata (RFC 8414) and endpoints."""

    def __init__(self, base_url: str, client_id: str, client_secret: str):
        self.base_url = base_url.rstrip("/")
        self.credentials = (client_id, client_secret)
        self._metadata: dict | None = None

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            response = requests.get(f"{self.base_url}/.well-known/oauth-authorization-server",
                                    timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    def _post(self, endpoint: str, data: dict) -> requests.Response:
        return requests.post(self.metadata[endpoint], data=data, auth=self.credentials,
                             timeout=HTTP_TIMEOUT)

    def _json(self, response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            raise ConsoleError(body.get("error_description") or body.get("error")
                               or f"HTTP {response.status_code}")
        return body

    def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> dict:
        return self._json(self._post("token_endpoint", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}))

    def refresh(self, refresh_token: str) -> dict:
        return self._json(self._post("token_endpoint", {
            "grant_type": "refresh_token", "refresh_token": refresh_token}))

    def revoke(self, token: str, hint: str) -> None:
        self._json(self._post("revocation_endpoint", {"token": token, "token_type_hint": hint}))

    def introspect(self, token: str) -> dict:
        return self._json(self._post("introspection_endpoint", {
            "token": token, "token_type_hint": "access_token"}))


class ContactsApi:
    """The contacts API (examples/contacts_api), called with a connection's access token."""

    def __init__(self, base_url: str):
        self.url = base_url.rstrip("/") + "/contacts"

    def call(self, method: str, token: str, **kwargs) -> dict:
        try:
            response = requests.request(method, self.url, timeout=HTTP_TIMEOUT,
                                        headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except requests.RequestException as error:
            raise ConsoleError(f"the contacts API at {self.url} cannot be reached "
                               f"({type(error).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            raise ConsoleError(body.get("error_description") or f"HTTP {response.status_code}")
        return body


def _now() -> datetime:
    return datetime.now(timezone.utc)


def pkce_pair() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_record(response: dict, previous: dict | None = None) -> dict:
    """What is kept of a token response; a refresh without a new refresh token keeps the old."""
    record = dict(previous or {})
    record.update({
        "access_token": response["access_token"],
        "refresh_token": response.get("refresh_token") or record.get("refresh_token"),
        "scope": response.get("scope", record.get("scope", "")),
        "expires_at": (_now() + timedelta(seconds=int(response.get("expires_in", 0)))).isoformat(),
        "updated_at": _now().isoformat(),
    })
    record.pop("last_check", None)
    return record


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, root_path=str(HERE), instance_path=str(HERE / "instance"))
    port = int(os.environ.get("PORT", "8900"))
    host = os.environ.get("HOST", "127.0.0.1")
    app.config.update(
        SECRET_KEY=os.environ.get("SAMPLE_APP_SECRET_KEY") or secrets.token_hex(32),
        # Both apps may run on 127.0.0.1, and cookies ignore ports: a name of our own.
        SESSION_COOKIE_NAME="sample_notes_session",
        SESSION_COOKIE_SAMESITE="Lax",
        CONSOLE_URL=os.environ.get("CONSOLE_URL", "http://127.0.0.1:5000"),
        CLIENT_ID=os.environ.get("CLIENT_ID", ""),
        CLIENT_SECRET=os.environ.get("CLIENT_SECRET", ""),
        BASE_URL=os.environ.get("SAMPLE_APP_URL", f"http://{host}:{port}"),
        STATE_FILE=os.environ.get("SAMPLE_APP_STATE", str(HERE / "instance" / "tokens.json")),
        SCOPES=os.environ.get("SAMPLE_APP_SCOPES", ""),
        CONTACTS_API_URL=os.environ.get("CONTACTS_API_URL", "http://127.0.0.1:8902"),
        HOST=host, PORT=port,
    )
    app.config.update(config or {})

    def console() -> Console:
        if not app.config["CLIENT_ID"] or not app.config["CLIENT_SECRET"]:
            abort(503, description="Set CLIENT_ID and CLIENT_SECRET (from `apps register`).")
        if "console" not in app.extensions:
            app.extensions["console"] = Console(app.config["CONSOLE_URL"], app.config["CLIENT_ID"],
                                                app.config["CLIENT_SECRET"])
        return app.extensions["console"]

    def store() -> TokenStore:
        return TokenStore(Path(app.config["STATE_FILE"]))

    def redirect_uri() -> str:
        return app.config["BASE_URL"].rstrip("/") + "/callback"

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def check_csrf():
        if request.method == "POST" and not secrets.compare_digest(
                request.form.get("csrf", ""), session.get("csrf", "") or "-"):
            abort(400, description="The form expired; reload the page and try again.")

    def connection_or_404() -> tuple[str, dict]:
        workspace = request.form.get("workspace", "")
        record = store().get(workspace)
        if record is None:
            abort(404, description="There is no such connection.")
        return workspace, record

    @app.get("/")
    def index():
        return render_template("index.html", connections=store().all(),
                               console_url=app.config["CONSOLE_URL"].rstrip("/"),
                               redirect_uri=redirect_uri())

    @app.get("/install")
    def install():
        """Starts an authorization request, as the console's "Install" asks (?workspace=SLUG)."""
        console_ = console()
        state = secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        workspace = request.args.get("workspace", "")[:64]
        pending = session.get("pending", {})
        pending = dict(list(pending.items())[-(MAX_PENDING - 1):])
        pending[state] = {"verifier": verifier, "workspace": workspace}
        session["pending"] = pending
        params = {"response_type": "code", "client_id": app.config["CLIENT_ID"],
                  "redirect_uri": redirect_uri(), "state": state, "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        if app.config["SCOPES"]:
            params["scope"] = app.config["SCOPES"]
        if workspace:
            params["workspace"] = workspace
        return redirect(f"{console_.metadata['authorization_endpoint']}?{urlencode(params)}")

    @app.get("/callback")
    def callback():
        console_ = console()
        pending = session.get("pending", {})
        started = pending.pop(request.args.get("state", ""), None)
        session["pending"] = pending
        if started is None:
            return render_template("problem.html", message=(
                "This answer does not match an authorization request started here "
                "(unknown or reused state). Start again from the console.")), 400
        if console_.metadata.get("authorization_response_iss_parameter_supported") and \
                request.args.get("iss") != console_.metadata["issuer"]:
            return render_template("problem.html", message=(
                "The answer does not come from the expected console (iss mismatch).")), 400
        if "error" in request.args:
            reason = request.args.get("error_description") or request.args["error"]
            return render_template("problem.html", message=f"Not connected: {reason}."), 400
        try:
            tokens = console_.exchange_code(request.args.get("code", ""), redirect_uri(),
                                            started["verifier"])
            about = console_.introspect(tokens["access_token"])
        except ConsoleError as error:
            return render_template("problem.html", message=f"The console refused: {error}"), 400
        workspace = about.get("workspace") or started["workspace"] or "default"
        record = token_record(tokens)
        record.update(workspace=workspace, user=about.get("user"),
                      connected_at=_now().isoformat())
        store().put(workspace, record)
        flash(f"Connected to {workspace}. Granted: {record['scope'] or 'no scopes'}.")
        return redirect(url_for("index"))

    @app.post("/refresh")
    def refresh():
        workspace, record = connection_or_404()
        try:
            tokens = console().refresh(record["refresh_token"])
        except ConsoleError as error:
            flash(f"Refresh refused: {error}. The connection is gone; install the app again.")
            store().forget(workspace)
            return redirect(url_for("index"))
        store().put(workspace, token_record(tokens, record))
        flash(f"Token refreshed for {workspace}.")
        return redirect(url_for("index"))

    @app.post("/check")
    def check():
        workspace, record = connection_or_404()
        try:
            about = console().introspect(record["access_token"])
        except ConsoleError as error:
            flash(f"Check failed: {error}")
            return redirect(url_for("index"))
        record["last_check"] = {"active": bool(about.get("active")), "at": _now().isoformat(),
                                "scope": about.get("scope"), "exp": about.get("exp")}
        store().put(workspace, record)
        flash(f"Token for {workspace} is {'active' if about.get('active') else 'inactive'}.")
        return redirect(url_for("index"))

    @app.post("/disconnect")
    def disconnect():
        """Revokes the refresh token (the console then shows the app disconnected) and forgets."""
        workspace, record = connection_or_404()
        try:
            console().revoke(record["refresh_token"], "refresh_token")
        except ConsoleError as error:
            flash(f"The console refused the revocation: {error}")
            return redirect(url_for("index"))
        store().forget(workspace)
        flash(f"Disconnected from {workspace}.")
        return redirect(url_for("index"))

    def access_token(workspace: str, record: dict) -> str:
        """The connection's access token, refreshed (and stored) first when it has expired."""
        if datetime.fromisoformat(record["expires_at"]) <= _now() + timedelta(seconds=30):
            record = token_record(console().refresh(record["refresh_token"]), record)
            store().put(workspace, record)
        return record["access_token"]

    @app.get("/contacts")
    def contacts():
        """The workspace's contacts, read from the contacts API with the connection's token."""
        workspace = request.args.get("workspace", "")
        record = store().get(workspace)
        if record is None:
            abort(404, description="There is no such connection.")
        api = ContactsApi(app.config["CONTACTS_API_URL"])
        try:
            listing = api.call("GET", access_token(workspace, record))
        except ConsoleError as error:
            return render_template("contacts.html", workspace=workspace, contacts=None,
                                   problem=f"Contacts not loaded: {error}"), 502
        return render_template("contacts.html", workspace=workspace,
                               contacts=listing.get("contacts", []), problem=None)

    @app.post("/contacts")
    def add_contact():
        workspace, record = connection_or_404()
        name = request.form.get("name", "").strip()
        api = ContactsApi(app.config["CONTACTS_API_URL"])
        try:
            api.call("POST", access_token(workspace, record),
                     json={"name": name, "email": request.form.get("email", "").strip()})
        except ConsoleError as error:
            flash(f"Contact not added: {error}")
        else:
            flash(f"Added {name}.")
        return redirect(url_for("contacts", workspace=workspace))

    @app.template_filter("when")
    def when(value: str | None) -> str:
        if not value:
            return "—"
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S UTC")

    return app


if __name__ == "__main__":
    sample = create_app()
    sample.run(host=sample.config["HOST"], port=sample.config["PORT"])
