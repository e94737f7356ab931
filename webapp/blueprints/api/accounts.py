"""/api/v1/accounts: a multi-account app reports the external accounts it holds."""
from __future__ import annotations

from flask import g, jsonify, request, url_for

from webapp.blueprints.api import bp
from webapp.blueprints.api.auth import app_token_required
from webapp.extensions import db
from webapp.services import external_accounts as svc
from webapp.services.errors import InvalidInput

token_required = app_token_required("multi_account")


def _json_object() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object with Content-Type: application/json.")
    return data


@bp.get("/accounts")
@token_required
def list_accounts():
    return jsonify(accounts=[svc.as_json(a) for a in svc.list_accounts(db.session, g.installation)])


@bp.post("/accounts")
@token_required
def add_account():
    account = svc.add_account(db.session, g.installation, _json_object())
    db.session.commit()
    response = jsonify(svc.as_json(account))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_account", external_id=account.external_id)
    return response


@bp.get("/accounts/<path:external_id>")
@token_required
def get_account(external_id: str):
    return jsonify(svc.as_json(svc.get_account(db.session, g.installation, external_id)))


@bp.patch("/accounts/<path:external_id>")
@token_required
def update_account(external_id: str):
    account = svc.update_account(db.session, g.installation, external_id, _json_object())
    db.session.commit()
    return jsonify(svc.as_json(account))


@bp.delete("/accounts/<path:external_id>")
@token_required
def remove_account(external_id: str):
    svc.remove_account(db.session, g.installation, external_id)
    db.session.commit()
    return "", 204
