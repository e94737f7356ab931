"""Request-level glue shared by every blueprint: login loading and fragments (errors are answered
in webapp/errors_http.py)."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app, render_template, session
from jinja2_fragments import BlockNotFoundError
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from webapp.extensions import db, htmx, login_manager
from webapp.models import User
from webapp.services.formatting import register_filters


# A URL that answers with a page or one of its fragments must be cached per these headers.
FRAGMENT_VARY = "HX-Request, HX-Target, HX-Trigger, HX-History-Restore-Request"


def requested_block(fragments: Mapping[str, str]) -> str | None:
    """The block htmx asks for: the one `fragments` names for the element it targets (HX-Target)
    or that triggered it (HX-Trigger). None means the whole page: a plain request, an htmx request
    for an element of no fragment (HX-Request alone), or a history restore."""
    if not htmx or htmx.history_restore_request:
        return None
    for element_id in (htmx.target, htmx.trigger):
        if element_id in fragments:
            return fragments[element_id]
    return None


def render_page_or_fragment(template: str, fragments: Mapping[str, str], status: int = 200,
                            headers: dict | None = None, **context):
    """One URL serves the page and its fragments: `fragments` maps the id of each element htmx
    may target to the named block of `template` that answers it (rendered with jinja2-fragments).

    Every block `fragments` names must exist in `template`, or this raises on any request, so
    that a renamed block cannot quietly turn a fragment into a whole page."""
    blocks = current_app.jinja_env.get_template(template).blocks
    for block in fragments.values():
        if block not in blocks:
            raise BlockNotFoundError(block, template)
    block = requested_block(fragments)
    if block is None:
        body = render_template(template, **context)
    else:
        body = render_block(template, block, **context)
    return body, status, {"Vary": FRAGMENT_VARY, **(headers or {})}


def register_web(app: Flask) -> None:
    register_filters(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        user = db.session.scalar(select(User).where(User.id == int(user_id)))
        if user is not None and not user.active:
            # Deactivated while logged in: this session ends with the response.
            session.pop("_user_id", None)
            session.end_reason = "deactivated"
            return None
        return user

