"""/api/v1/openapi.json: the API described by hand (OpenAPI 3.1), kept next to the routes."""
from __future__ import annotations

from flask import current_app, jsonify

from webapp.blueprints.api import bp
from webapp.blueprints.api.openapi_alerts import ALERT_PATHS, ALERT_SCHEMAS
from webapp.models.installation import ACCOUNT_STATUSES
from webapp.services.external_accounts import MAX_LENGTH


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}


def _account_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}}


UNAUTHORIZED = {**_error("The access token is missing, invalid, expired or revoked."),
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"},
                                                 "description": "A Bearer challenge (RFC 6750)."}}}
FORBIDDEN = _error("The token's app is not a multi-account app.")
NOT_FOUND = _error("The installation holds no account with this external id.")
BAD_REQUEST = _error("The body is not a JSON object, or a field is missing or malformed.")

EXTERNAL_ID = {"name": "external_id", "in": "path", "required": True,
               "description": "The account's id in the app's own system.",
               "schema": {"type": "string", "maxLength": MAX_LENGTH}}


def _text(description: str) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "description": description}


STATUS = {"type": "string", "enum": list(ACCOUNT_STATUSES),
          "description": "How the account's connection is doing, as the app sees it."}

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Connected Apps API",
        "version": "1.0.0",
        "description": ("Endpoints an installed app calls with an access token the console issued "
                        "to it (OAuth 2.0 authorization code grant). The token identifies the app "
                        "and the workspace; every call acts on that installation only."),
    },
    "security": [{"bearerAuth": []}],
    "paths": {
        "/accounts": {
            "get": {
                "operationId": "listAccounts",
                "summary": "List the external accounts of the installation",
                "responses": {
                    "200": {"description": "Every account, by name.",
                            "content": {"application/json": {"schema": {
                                "type": "object", "required": ["accounts"],
                                "properties": {"accounts": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Account"}}}}}}},
                    "401": UNAUTHORIZED, "403": FORBIDDEN,
                },
            },
            "post": {
                "operationId": "addAccount",
                "summary": "Add an external account",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/NewAccount"}}}},
                "responses": {
                    "201": {**_account_response("The account was added."),
                            "headers": {"Location": {"schema": {"type": "string"},
                                                     "description": "The account's URL."}}},
                    "400": BAD_REQUEST, "401": UNAUTHORIZED, "403": FORBIDDEN,
                    "409": _error("An account with this external id already exists."),
                },
            },
        },
        "/accounts/{external_id}": {
            "parameters": [EXTERNAL_ID],
            "get": {
                "operationId": "getAccount",
                "summary": "Read one external account",
                "responses": {"200": _account_response("The account."), "401": UNAUTHORIZED,
                              "403": FORBIDDEN, "404": NOT_FOUND},
            },
            "patch": {
                "operationId": "updateAccount",
                "summary": "Change an account's status and/or name",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/AccountChange"}}}},
                "responses": {"200": _account_response("The account as it is now."),
                              "400": BAD_REQUEST, "401": UNAUTHORIZED, "403": FORBIDDEN,
                              "404": NOT_FOUND},
            },
            "delete": {
                "operationId": "removeAccount",
                "summary": "Remove an external account",
                "responses": {"204": {"description": "The account was removed."},
                              "401": UNAUTHORIZED, "403": FORBIDDEN, "404": NOT_FOUND},
            },
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "An OAuth 2.0 access token issued to a multi-account "
                                          "app for this workspace."},
        },
        "schemas": {
            "Account": {
                "type": "object",
                "required": ["external_id", "name", "status", "updated_at"],
                "properties": {
                    "external_id": _text("The account's id in the app's own system."),
                    "name": _text("The name shown under “Manage connection”."),
                    "status": STATUS,
                    "updated_at": {"type": "string", "format": "date-time",
                                   "description": "Last change, in UTC."},
                },
            },
            "NewAccount": {
                "type": "object",
                "required": ["external_id", "name"],
                "properties": {
                    "external_id": _text("The account's id in the app's own system."),
                    "name": _text("The name shown under “Manage connection”."),
                    "status": {**STATUS, "default": "connected"},
                },
            },
            "AccountChange": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "properties": {"name": _text("A new name."), "status": STATUS},
            },
            "Problem": {
                "type": "object",
                "description": "An error, as RFC 9457 describes it.",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string", "format": "uri",
                             "description": "The problem type; /problems describes each."},
                    "title": {"type": "string", "description": "The type in a few words."},
                    "status": {"type": "integer", "description": "The HTTP status code."},
                    "detail": {"type": "string",
                               "description": "What went wrong in this request, for people."},
                    "field": {"type": "string",
                              "description": "The input field at fault, when there is one."},
                },
            },
        },
    },
}

SPEC["paths"].update(ALERT_PATHS)
SPEC["components"]["schemas"].update(ALERT_SCHEMAS)



@bp.get("/openapi.json")
def openapi_document():
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    return jsonify({**SPEC, "servers": [{"url": f"{base}/api/v1"}]})
