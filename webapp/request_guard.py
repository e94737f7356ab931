"""Refuses requests carrying NUL characters before any view sees them.

No honest form, link or client sends a NUL, and PostgreSQL cannot store or even compare a text
holding one (the driver raises), so one check here turns what would be a 500 anywhere into a 400.
"""
from __future__ import annotations

from flask import Flask, abort, request

NUL = "\x00"


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


def _request_holds_nul() -> bool:
    if NUL in request.path or _holds_nul(list(request.args.items(multi=True))):
        return True
    if request.authorization is not None and _holds_nul(
            [request.authorization.username or "", request.authorization.password or "",
             request.authorization.token or ""]):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if _holds_nul(list(request.form.items(multi=True))):
            return True
        if request.is_json and _holds_nul(request.get_json(silent=True)):
            return True
    return False


def register_request_guard(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        if _request_holds_nul():
            abort(400, description="The request contains a NUL character, which no field accepts.")
