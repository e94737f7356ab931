"""The one error handler: every refusal, whether a DomainError from the services or an HTTP error
from Flask, werkzeug or an extension, is answered in the form its asker reads.

- A person's browser gets the error page with the message.
- htmx gets only the message, as a fragment for the element it targets: layout.html's htmx-config
  swaps every 4xx, and `HX-Reswap: innerHTML` puts the message inside that element, so the
  element (and its id, which later requests target) stays on the page.
- Programs under /api/, /.well-known/ and /oauth/ get RFC 9457 problem+json, except the token,
  revocation and introspection endpoints, whose errors RFC 6749 defines as `error` and
  `error_description` (Authlib answers most of them itself; this only covers what it never sees).
  The authorization endpoint is where people land (login, consent): it answers like a page.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, TooManyRequests, Unauthorized, default_exceptions
from werkzeug.http import HTTP_STATUS_CODES

from webapp.extensions import db, htmx
from webapp.services.errors import (Conflict, DomainError, Forbidden, InvalidInput, NotFound,
                                    Unprocessable)

PROBLEM_JSON = "application/problem+json"
PROGRAM_PREFIXES = ("/api/", "/.well-known/", "/oauth/")
PEOPLES_PATHS = ("/oauth/authorize",)
OAUTH_ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The domain's classes name the problem types of their statuses, so an HTTP error with the same
# status (a 404 for an unknown URL, the CSRF check's 400) is the same type with the same title.
DOMAIN_TYPES = {cls.status: cls for cls in (InvalidInput, Unprocessable, NotFound, Forbidden,
                                            Conflict)}


@dataclass(frozen=True)
class Problem:
    """What went wrong, independent of the form it is answered in."""

    status: int
    kind: str
    title: str
    message: str
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def problem_of(error: Exception) -> Problem:
    if isinstance(error, DomainError):
        return Problem(error.status, error.kind, error.title, error.message, error.field)
    status = error.code or 500
    headers = {name: value for name, value in error.get_headers()
               if name.lower() != "content-type"}
    message = error.description or HTTP_STATUS_CODES.get(status, "Error")
    if isinstance(error, TooManyRequests):
        # The limiter's description is only the limit ("5 per 1 minute").
        message = f"Too many attempts (at most {error.description}). Wait, then try again."
    if status in DOMAIN_TYPES:
        domain = DOMAIN_TYPES[status]
        return Problem(status, domain.kind, domain.title, message, headers=headers)
    name = HTTP_STATUS_CODES.get(status, "Error")
    return Problem(status, name.lower().replace(" ", "-"), name, message, headers=headers)


@dataclass(frozen=True)
class ProblemType:
    kind: str
    status: int
    title: str
    meaning: str


def problem_types() -> list[ProblemType]:
    """Every type a problem+json answer may name: the domain's, then the other HTTP errors."""
    types = {cls.kind: ProblemType(cls.kind, cls.status, cls.title, " ".join(cls.__doc__.split()))
             for cls in DOMAIN_TYPES.values()}
    for status, error in sorted(default_exceptions.items()):
        if status not in DOMAIN_TYPES:
            name = HTTP_STATUS_CODES[status]
            kind = name.lower().replace(" ", "-")
            types[kind] = ProblemType(kind, status, name, error.description)
    return sorted(types.values(), key=lambda t: t.status)


def problem_type_uri(kind: str) -> str:
    """Each type is described on the public problems page, under its own anchor."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/problems#{kind}"


def _problem_json(problem: Problem):
    body = {"type": problem_type_uri(problem.kind), "title": problem.title,
            "status": problem.status, "detail": problem.message}
    if problem.field:
        body["field"] = problem.field
    response = jsonify(body)
    response.status_code = problem.status
    response.content_type = PROBLEM_JSON
    response.headers.update(problem.headers)
    return response


def _oauth_error(problem: Problem):
    if problem.status == 401:
        code = "invalid_client"
    elif problem.status >= 500:
        code = "server_error"
    else:  # RFC 6749 5.2: a request that is "otherwise malformed"
        code = "invalid_request"
    response = jsonify(error=code, error_description=problem.message)
    response.status_code = problem.status
    response.headers.update({**problem.headers, **NO_STORE})
    return response


def _for_people(problem: Problem):
    # Vary: the same URL answers a page, or a fragment when htmx asks.
    headers = {**problem.headers, "Vary": "HX-Request, HX-History-Restore-Request"}
    if htmx and not htmx.history_restore_request:
        headers["HX-Reswap"] = "innerHTML"
        return render_template("_error_fragment.html", problem=problem), problem.status, headers
    return render_template("error.html", problem=problem), problem.status, headers


def answer(problem: Problem):
    """The problem as the asker of the current request reads it."""
    path = request.path
    if path in OAUTH_ENDPOINTS:
        return _oauth_error(problem)
    if path.startswith(PROGRAM_PREFIXES) and path not in PEOPLES_PATHS:
        return _problem_json(problem)
    return _for_people(problem)


def handle_error(error: Exception):
    if isinstance(error, HTTPException) and error.response is not None:
        return error.response  # a view or extension built its own answer
    # The request's unfinished writes are abandoned; the error page must not see (or commit) them.
    db.session.rollback()
    return answer(problem_of(error))


class BearerChallenge(Unauthorized):
    """401 carrying the RFC 6750 challenge exactly as given (werkzeug's would drop its quotes)."""

    def __init__(self, description: str, challenge: str):
        super().__init__(description)
        self.challenge = challenge

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", self.challenge)]


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_error)
    app.register_error_handler(HTTPException, handle_error)
