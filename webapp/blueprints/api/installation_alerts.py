"""/api/v1/installation/alerts/<key>: an app reports, updates and resolves problems of its own
installation, with the access token the console issued to it (any install level)."""
from __future__ import annotations

from flask import g, jsonify, request
from flask_limiter.util import get_remote_address

from webapp.blueprints.api import bp
from webapp.blueprints.api.auth import app_token_required
from webapp.extensions import db, limiter
from webapp.services import alerts, reported_alerts

token_required = app_token_required(None)
# Generous for an app reporting its problems, tight enough that a runaway loop cannot flood the
# log: each new alert is an event.
REPORT_LIMIT = "60 per minute;600 per hour"


def _per_installation() -> str:
    installation = g.get("installation")
    return f"installation-{installation.id}" if installation is not None else get_remote_address()


rate_limited = limiter.shared_limit(REPORT_LIMIT, scope="installation-alerts",
                                    key_func=_per_installation)


@bp.put("/installation/alerts/<key>")
@token_required
@rate_limited
def report_alert(key: str):
    alert, opened = reported_alerts.report(db.session, g.installation, key,
                                           request.get_json(silent=True))
    db.session.commit()
    return jsonify(alerts.as_json(alert)), 201 if opened else 200


@bp.delete("/installation/alerts/<key>")
@token_required
@rate_limited
def resolve_alert(key: str):
    reported_alerts.withdraw(db.session, g.installation, key)
    db.session.commit()
    return "", 204
