"""The demo apps' pages: install, callback and health per app, and the control page."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import quote, urlencode

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, session, url_for)

from webapp.demo_host.console import Console, ConsoleError, problem_text
from webapp.demo_host.store import HEALTH_MODES, DemoAppsFile, connection_key, token_record

bp = Blueprint("demo_host", __name__)
MAX_PENDING = 5  # authorization requests in flight per browser
ALERT_KEY = "demo-sync"
ALERT = {"title": "Sync is failing",
         "detail": "Reported from the demo apps' control page: the last sync runs failed."}
HEALTH_WORDS = {"healthy": "answers HTTP 200", "failing": "answers HTTP 503",
                "timing-out": "does not answer in time"}


def _console() -> Console:
    return current_app.extensions["demo_console"]


def _store() -> DemoAppsFile:
    return current_app.extensions["demo_apps_file"]


def _app_or_404(slug: str) -> dict:
    app = _store().read()["apps"].get(slug)
    if app is None:
        abort(404, description="There is no demo app by that name.")
    return app


def _redirect_uri(slug: str) -> str:
    return f"{current_app.config['BASE_URL']}/{slug}/callback"


def pkce_pair() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _problem(message: str, status: int = 400, slug: str | None = None):
    back = _console().listing(slug) if slug else _console().base_url
    return render_template("demo_host/problem.html", message=message, back=back), status


@bp.get("/")
def control_page():
    data = _store().read()
    apps = []
    for slug, app in sorted(data["apps"].items(), key=lambda item: item[1]["name"].lower()):
        workspaces = sorted({record["workspace"]
                             for record in data["connections"].get(slug, {}).values()})
        connected = [{"workspace": workspace,
                      "users": sorted(record["user"] or "" for record in
                                      data["connections"][slug].values()
                                      if record["workspace"] == workspace),
                      "reported": data["reported"].get(slug, {}).get(workspace, []),
                      "accounts": _accounts(slug, workspace) if app["install_level"] ==
                      "multi_account" else None}
                     for workspace in workspaces]
        apps.append({"slug": slug, **app, "health": data["health"].get(slug, "healthy"),
                     "connected": connected,
                     "console_page": (_console().app_page if connected else _console().listing)(slug)})
    return render_template("demo_host/index.html", apps=apps, health_words=HEALTH_WORDS,
                           console_url=_console().base_url)


def _accounts(slug: str, workspace: str) -> list[dict] | str:
    """The accounts the console holds for the app's installation, or why they are not known."""
    try:
        response = _console().call(_store(), slug, workspace, "GET", "/accounts")
    except ConsoleError as error:
        return str(error)
    if response.status_code != 200:
        return problem_text(response)
    return response.json()["accounts"]


@bp.get("/<slug>/install")
def install(slug: str):
    """Starts an authorization request, as the console's Install and Reconnect ask."""
    app = _app_or_404(slug)
    try:
        endpoint = _console().metadata["authorization_endpoint"]
    except ConsoleError as error:
        return _problem(str(error), 502)
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    workspace = request.args.get("workspace", "")[:64]
    pending = dict(list(session.get("pending", {}).items())[-(MAX_PENDING - 1):])
    pending[state] = {"slug": slug, "verifier": verifier, "workspace": workspace}
    session["pending"] = pending
    params = {"response_type": "code", "client_id": app["client_id"],
              "redirect_uri": _redirect_uri(slug), "state": state, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    if workspace:
        params["workspace"] = workspace
    return redirect(f"{endpoint}?{urlencode(params)}")


@bp.get("/<slug>/callback")
def callback(slug: str):
    app = _app_or_404(slug)
    pending = session.get("pending", {})
    started = pending.pop(request.args.get("state", ""), None)
    session["pending"] = pending
    if started is None or started["slug"] != slug:
        return _problem("This answer does not match an authorization request started here "
                        "(unknown or reused state). Start again from the console.", slug=slug)
    console = _console()
    try:
        if request.args.get("iss") != console.metadata["issuer"]:
            return _problem("The answer does not come from the expected console (iss mismatch).",
                            slug=slug)
        if request.args.get("error") == "access_denied":  # "Cancel" on the consent page
            return redirect(console.listing(slug))
        if "error" in request.args:
            reason = request.args.get("error_description") or request.args["error"]
            return _problem(f"{app['name']} was not connected: {reason}.", slug=slug)
        tokens = console.exchange_code(app, request.args.get("code", ""), _redirect_uri(slug),
                                       started["verifier"])
        about = console.introspect(app, tokens["access_token"])
    except ConsoleError as error:
        return _problem(f"The console refused: {error}", slug=slug)
    workspace = about.get("workspace") or started["workspace"]
    key = connection_key(workspace, about.get("user"), app["install_level"])
    with _store().update() as data:
        data["connections"].setdefault(slug, {})[key] = token_record(
            workspace, about.get("user"), tokens["access_token"], tokens.get("refresh_token"),
            tokens.get("expires_in", 0), tokens.get("scope", ""))
    if app["install_level"] == "multi_account":
        _report_first_accounts(slug, app, workspace)
    return redirect(console.app_page(slug))


def _report_first_accounts(slug: str, app: dict, workspace: str) -> None:
    """A multi-account app just connected reports the accounts it holds (unless it has)."""
    accounts = _accounts(slug, workspace)
    if not isinstance(accounts, list) or accounts:
        return
    for external_id, name in ((f"{slug}:demo-co", f"Demo Co on {app['name']}"),
                              (f"{slug}:demo-support", f"Demo Support on {app['name']}")):
        _console().call(_store(), slug, workspace, "POST", "/accounts",
                        {"external_id": external_id, "name": name, "status": "connected"})


@bp.get("/<slug>/health")
def health(slug: str):
    _app_or_404(slug)
    mode = _store().read()["health"].get(slug, "healthy")
    if mode == "failing":
        return jsonify(status="failing"), 503
    if mode == "timing-out":
        time.sleep(current_app.config["HEALTH_DELAY"])
    return jsonify(status="ok")


@bp.post("/<slug>/health")
def set_health(slug: str):
    app = _app_or_404(slug)
    mode = request.form.get("mode", "")
    if mode not in HEALTH_MODES:
        abort(400, description=f"The health mode is one of {', '.join(HEALTH_MODES)}.")
    with _store().update() as data:
        data["health"][slug] = mode
    flash(f"{app['name']}'s health endpoint now {HEALTH_WORDS[mode]}. The console probes every "
          "HEALTH_PROBE_INTERVAL seconds: three failures in a row open an alert, the first "
          "success resolves it.")
    return redirect(url_for(".control_page", _anchor=slug))


@bp.post("/<slug>/alerts/report")
def report_alert(slug: str):
    app, workspace = _app_or_404(slug), request.form.get("workspace", "")
    response = _as_app(slug, workspace, "PUT", f"/installation/alerts/{ALERT_KEY}", ALERT)
    if response is not None and response.status_code in (200, 201):
        with _store().update() as data:
            keys = data["reported"].setdefault(slug, {}).setdefault(workspace, [])
            if ALERT_KEY not in keys:
                keys.append(ALERT_KEY)
        flash(f"{app['name']} reported “{ALERT['title']}” to {workspace}.")
    elif response is not None:
        flash(f"The console refused the report: {problem_text(response)}")
    return redirect(url_for(".control_page", _anchor=slug))


@bp.post("/<slug>/alerts/resolve")
def resolve_alert(slug: str):
    app, workspace = _app_or_404(slug), request.form.get("workspace", "")
    key = request.form.get("key", "")
    response = _as_app(slug, workspace, "DELETE", f"/installation/alerts/{quote(key, safe='')}")
    if response is None:
        return redirect(url_for(".control_page", _anchor=slug))
    if response.status_code in (204, 404):  # 404: nothing open (resolved by an uninstall, say)
        with _store().update() as data:
            keys = data["reported"].get(slug, {}).get(workspace, [])
            if key in keys:
                keys.remove(key)
        flash(f"{app['name']} said the problem “{key}” is over." if response.status_code == 204
              else f"The console has no open alert “{key}” of {app['name']}: {problem_text(response)}")
    else:
        flash(f"The console refused: {problem_text(response)}")
    return redirect(url_for(".control_page", _anchor=slug))


@bp.post("/<slug>/accounts")
def set_account(slug: str):
    app, workspace = _app_or_404(slug), request.form.get("workspace", "")
    external_id, status = request.form.get("external_id", ""), request.form.get("status", "")
    response = _as_app(slug, workspace, "PATCH", f"/accounts/{quote(external_id, safe=':')}",
                       {"status": status})
    if response is not None:
        flash(f"{app['name']} reported the account {external_id} {status}."
              if response.status_code == 200 else
              f"The console refused: {problem_text(response)}")
    return redirect(url_for(".control_page", _anchor=slug))


@bp.post("/<slug>/disconnect")
def disconnect(slug: str):
    """The app revokes its refresh tokens for the workspace: the console shows it disconnected."""
    app, workspace = _app_or_404(slug), request.form.get("workspace", "")
    with _store().update() as data:
        connections = data["connections"].get(slug, {})
        records = {key: record for key, record in connections.items()
                   if record["workspace"] == workspace}
        for key in records:
            connections.pop(key)
    for record in records.values():
        try:
            _console().revoke(app, record["refresh_token"])
        except ConsoleError as error:
            flash(f"The console refused the revocation: {error}")
    flash(f"{app['name']} revoked its tokens for {workspace}.")
    return redirect(url_for(".control_page", _anchor=slug))


def _as_app(slug: str, workspace: str, method: str, path: str, json: dict | None = None):
    """The API call as the app's installation, or None (with a message) when it cannot be made."""
    try:
        return _console().call(_store(), slug, workspace, method, path, json)
    except ConsoleError as error:
        flash(str(error))
        return None
