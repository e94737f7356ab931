"""/api/v1/accounts: a multi-account app reports the external accounts it holds."""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from webapp.blueprints.api import bp
from webapp.blueprints.api.auth import api_error, app_token_required
from webapp.extensions import db
from webapp.services import external_accounts as svc

token_required = app_token_required("multi_account")


def _json_object():
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _bad_body():
    return api_error(400, "invalid_request", "Send a JSON object with Content-Type: application/json.")


@bp.get("/accounts")
@token_required
def list_accounts():
    return jsonify(accounts=[svc.as_json(a) for a in svc.list_accounts(db.session, g.installation)])


@bp.post("/accounts")
@token_required
def add_account():
    data = _json_object()
    if data is None:
        return _bad_body()
    try:
        account = svc.add_account(db.session, g.installation, data)
        db.session.commit()
    except svc.AccountInputError as error:
        return api_error(400, "invalid_request", str(error))
    except (svc.AccountExists, IntegrityError):  # IntegrityError: a concurrent add won the race
        db.session.rollback()
        return api_error(409, "conflict", "An account with this external id already exists.")
    response = jsonify(svc.as_json(account))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_account", external_id=account.external_id)
    return response


@bp.get("/accounts/<path:external_id>")
@token_required
def get_account(external_id: str):
    try:
        return jsonify(svc.as_json(svc.get_account(db.session, g.installation, external_id)))
    except svc.AccountNotFound as error:
        return api_error(404, "not_found", str(error))


@bp.patch("/accounts/<path:external_id>")
@token_required
def update_account(external_id: str):
    data = _json_object()
    if data is None:
        return _bad_body()
    try:
        account = svc.update_account(db.session, g.installation, external_id, data)
        db.session.commit()
    except svc.AccountInputError as error:
        return api_error(400, "invalid_request", str(error))
    except svc.AccountNotFound as error:
        return api_error(404, "not_found", str(error))
    return jsonify(svc.as_json(account))


@bp.delete("/accounts/<path:external_id>")
@token_required
def remove_account(external_id: str):
    try:
        svc.remove_account(db.session, g.installation, external_id)
        db.session.commit()
    except svc.AccountNotFound as error:
        return api_error(404, "not_found", str(error))
    return "", 204
