"""The OpenAPI description of /installation/alerts/{key}, merged into the API's document (its
errors are the document's Problem schema)."""
from __future__ import annotations

from webapp.services.alerts import DETAIL_LENGTH, TITLE_LENGTH
from webapp.services.reported_alerts import KEY_PATTERN


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}


def _alert(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Alert"}}}}


KEY = {"name": "key", "in": "path", "required": True,
       "description": "The app's own name for the problem; reporting it again updates it.",
       "schema": {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$"}}
REFUSALS = {
    "401": {**_problem("The access token is missing, invalid, expired or revoked."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"},
                                             "description": "A Bearer challenge (RFC 6750)."}}},
    "429": _problem("Too many reports from this installation; try again later."),
}

ALERT_PATHS = {
    "/installation/alerts/{key}": {
        "parameters": [KEY],
        "put": {
            "operationId": "reportAlert",
            "summary": "Report a problem of the installation (opens or updates the alert)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/AlertReport"}}}},
            "responses": {
                "201": _alert("The alert was opened."),
                "200": _alert("The alert was open already: updated, its count bumped."),
                "400": _problem("The key or a field of the body is malformed (`field` names it)."),
                **REFUSALS,
            },
        },
        "delete": {
            "operationId": "resolveAlert",
            "summary": "Say the problem is over (resolves the alert)",
            "responses": {
                "204": {"description": "The alert was resolved."},
                "400": _problem("The key is malformed."),
                "404": _problem("The installation has no open alert with this key."),
                **REFUSALS,
            },
        },
    },
}

_MOMENT = {"type": "string", "format": "date-time"}

ALERT_SCHEMAS = {
    "AlertReport": {
        "type": "object", "required": ["title"], "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_LENGTH,
                      "description": "One line shown on the app's page, e.g. “Ticket sync failing”."},
            "detail": {"type": ["string", "null"], "maxLength": DETAIL_LENGTH,
                       "description": "More about it; may span lines."},
        },
    },
    "Alert": {
        "type": "object",
        "required": ["key", "source", "title", "detail", "first_seen", "last_seen", "count",
                     "resolved_at"],
        "properties": {
            "key": {"type": "string"}, "source": {"type": "string", "enum": ["app"]},
            "title": {"type": "string"}, "detail": {"type": ["string", "null"]},
            "first_seen": _MOMENT, "last_seen": _MOMENT,
            "count": {"type": "integer", "minimum": 1,
                      "description": "How many times it was reported while open."},
            "resolved_at": {**_MOMENT, "type": ["string", "null"]},
        },
    },
}
