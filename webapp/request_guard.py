"""Refuses requests that no field can accept, before any view sees them.

No honest form, link or client sends a NUL or an unpaired UTF-16 surrogate (JSON can spell one,
"\\ud800"), and neither can be stored: PostgreSQL cannot even compare a text holding a NUL, and no
driver can encode a lone surrogate. A JSON body nested deeper than the parser's recursion limit
cannot be read at all. One check here turns what would be a 500 anywhere into a 400.
"""
from __future__ import annotations

import re

from flask import Flask, abort, request

UNUSABLE = re.compile("[\x00\ud800-\udfff]")
REFUSED = "The request contains a NUL character or an unpaired surrogate, which no field accepts."


def _holds_unusable(value) -> bool:
    """Walks strings, lists and dicts without recursion: a deep JSON body must not crash it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNUSABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


def _json_body():
    try:
        return request.get_json(silent=True)
    except RecursionError:
        abort(400, description="The JSON body is nested too deeply.")


def _request_holds_unusable() -> bool:
    if _holds_unusable([request.path, *request.args.items(multi=True)]):
        return True
    credentials = request.authorization
    if credentials is not None and _holds_unusable(
            [credentials.username, credentials.password, credentials.token]):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if _holds_unusable(list(request.form.items(multi=True))):
            return True
        if request.is_json and _holds_unusable(_json_body()):
            return True
    return False


def register_request_guard(app: Flask) -> None:
    @app.before_request
    def refuse_unusable_characters():
        if _request_holds_unusable():
            abort(400, description=REFUSED)
