"""Liveness and readiness for operators and orchestrators."""
from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from webapp.extensions import db, redis_connection

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}


@bp.route("/readyz")
def readyz():
    failing = {}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means not ready
        db.session.rollback()
        failing["database"] = type(error).__name__
    try:
        redis_connection().ping()
    except Exception as error:
        failing["redis"] = type(error).__name__
    if failing:
        return {"status": "unavailable", "failing": failing}, 503
    return {"status": "ok", "database": "ok", "redis": "ok"}
