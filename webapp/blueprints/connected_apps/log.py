"""The app log as it appears on the overview and on each app page.

Interface used by the page views:
    page_with_log(template, fixed_app_id=None, **context)
renders `template` with `context` plus `log` (everything `connected_apps/_app_log.html` needs),
or, when htmx targets the log table (id "app-log-table") or asks for more rows ("app-log-more"),
only that fragment. Filters come from the query string, so the pushed URL restores the view.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user

from webapp.extensions import db
from webapp.services import event_log
from webapp.web import htmx_targets, render_page_or_fragment

LOG_TABLE_ID = "app-log-table"


def page_with_log(template: str, fixed_app_id: int | None = None, **context):
    filters = event_log.parse_filters(db.session, current_user.workspace_id, request.args,
                                      fixed_app_id=fixed_app_id)
    page = event_log.fetch_page(db.session, current_user.workspace_id, filters)
    context["log"] = {"filters": filters, "page": page, "fixed_app_id": fixed_app_id,
                      "options": event_log.filter_options(db.session, current_user.workspace_id)}
    if htmx_targets(LOG_TABLE_ID):
        return render_page_or_fragment("connected_apps/_log_table.html", "content", LOG_TABLE_ID,
                                       **context)
    return render_page_or_fragment(template, "content", "", **context)
