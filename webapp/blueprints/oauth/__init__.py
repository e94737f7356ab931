"""The OAuth 2.0 endpoints: consent (browser), token, revocation, introspection, metadata.

Only the consent form is a browser form (CSRF-protected); the token, revocation and
introspection endpoints are called by apps with client credentials, so CSRF does not apply.
"""
from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from webapp.extensions import csrf, db
from webapp.services.errors import DomainError
from webapp.services.links import ConsoleLinks
from webapp.services.lifecycle import check_may_consent, consent
from webapp.services.oauth.consent import consent_view
from webapp.services.oauth.server import ConsoleAuthorizationServer, server_metadata, with_iss

bp = Blueprint("oauth", __name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _server() -> ConsoleAuthorizationServer:
    return current_app.extensions["oauth_server"]


def _problem(message: str, status: int = 400):
    """An authorization request we must not redirect back (unknown client, wrong redirect URI,
    another workspace): tell the person instead."""
    return render_template("oauth/consent.html", problem=message), status, NO_STORE


def _redirect_with_iss(response):
    if response.status_code in (301, 302, 303) and response.headers.get("Location"):
        response.headers["Location"] = with_iss(response.headers["Location"], _server().issuer)
    response.headers.update(NO_STORE)
    return response


def _error(error: OAuth2Error):
    if error.redirect_uri:  # only ever set once the redirect URI matched the client's exactly
        return _redirect_with_iss(_server().handle_error_response(None, error))
    description = error.get_error_description() or error.error
    return _problem(f"This app's authorization request is not valid: {description}")


def _unprintable_parameter() -> str | None:
    """The first authorization request parameter holding anything but printable ASCII, which
    RFC 6749 (appendix A) never allows there."""
    for name, value in [*request.args.items(multi=True), *request.form.items(multi=True)]:
        if any(not " " <= char <= "~" for char in name + value):
            return name
    return None


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@login_required
def authorize():
    if (name := _unprintable_parameter()) is not None:
        return _problem("This app's authorization request is not valid: "
                        f"{name!r} holds characters a request may not carry.")
    try:
        flow = _server().get_consent_grant(end_user=current_user)
    except OAuth2Error as error:
        return _error(error)
    except ValueError:  # Authlib refuses to quote a value with '"' or '\\' in its error description
        return _problem("This app's authorization request is not valid: a parameter holds "
                        "characters a request may not carry.")
    workspace = current_user.workspace
    asked_for = request.args.get("workspace")
    if asked_for and asked_for != workspace.slug:
        return _problem(f"This request is for another workspace than yours ({workspace.name}). "
                        "Log in with an account of that workspace to connect the app.")
    app = flow.client.app
    scopes = flow.request.scope.split()
    view = consent_view(db.session, workspace, app, current_user, scopes)
    if request.method == "GET":
        return render_template("oauth/consent.html", view=view), 200, NO_STORE
    if request.form.get("decision") != "connect":
        response = _server().create_authorization_response(grant_user=None, grant=flow)
        return _redirect_with_iss(response)
    try:
        check_may_consent(workspace, app, current_user)
        grant = consent(db.session, workspace, app, current_user, scopes)
    except DomainError as error:  # shown on the consent page, in place of "Connect app"
        db.session.rollback()
        view.blocking = error.message
        return render_template("oauth/consent.html", view=view), 400, NO_STORE
    response = flow.issue_code(grant)
    if "code=" in response.headers.get("Location", ""):
        db.session.commit()
    else:
        db.session.rollback()
    return _redirect_with_iss(response)


def _endpoint_response(response):
    # Replays revoke tokens before answering invalid_grant: those writes must persist too.
    db.session.commit()
    response.headers.update(NO_STORE)
    return response


@bp.post("/oauth/token")
@csrf.exempt
def token():
    return _endpoint_response(_server().create_token_response())


@bp.post("/oauth/revoke")
@csrf.exempt
def revoke():
    return _endpoint_response(_server().create_endpoint_response("revocation"))


@bp.post("/oauth/introspect")
@csrf.exempt
def introspect():
    return _endpoint_response(_server().create_endpoint_response("introspection"))


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    return jsonify(server_metadata(db.session, ConsoleLinks(_server().issuer)))
