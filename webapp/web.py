"""Request-level glue shared by every blueprint: login loading, fragments, errors."""
from __future__ import annotations

from flask import Flask, render_template, request
from jinja2_fragments.flask import render_block
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, default_exceptions

from webapp.extensions import db, htmx, login_manager
from webapp.models import User
from webapp.services.errors import DomainError
from webapp.services.formatting import register_filters


def htmx_targets(element_id: str) -> bool:
    """True when htmx asks for one fragment of the page (not merely any htmx request).

    A history restore wants the whole page even if other htmx headers came along."""
    return (bool(htmx) and element_id in (htmx.target, htmx.trigger)
            and not htmx.history_restore_request)


# A URL that answers with a page or one of its fragments must be cached per these headers.
FRAGMENT_VARY = "HX-Request, HX-Target, HX-Trigger, HX-History-Restore-Request"


def render_page_or_fragment(template: str, block: str, target_ids: str | tuple[str, ...],
                            status: int = 200, headers: dict | None = None, **context):
    """One URL serves the page and, when htmx targets one of `target_ids`, only its block."""
    ids = (target_ids,) if isinstance(target_ids, str) else target_ids
    if any(htmx_targets(element_id) for element_id in ids):
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return body, status, {"Vary": FRAGMENT_VARY, **(headers or {})}


def register_web(app: Flask) -> None:
    register_filters(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        return db.session.scalar(select(User).where(User.id == int(user_id)))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith(("/oauth/", "/api/", "/.well-known/")):
            return {"error": error.name.lower().replace(" ", "_"),
                    "error_description": error.description}, error.code
        if htmx:
            return render_template("_error_fragment.html", error=error), error.code
        return render_template("error.html", error=error), error.code

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # A refusal from the services (e.g. the policy's Forbidden or Conflict) answers like the
        # HTTP error of its status, with its message for people.
        db.session.rollback()
        return http_error(default_exceptions[error.status](description=error.message))
