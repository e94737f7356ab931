"""The Overview and My apps tabs."""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from webapp.blueprints.connected_apps import bp
from webapp.blueprints.connected_apps.log import LOG_FRAGMENTS, log_fragment_requested, request_log
from webapp.database import utcnow
from webapp.extensions import db
from webapp.services import (attention, connections, installations, marketplace, policy, summary,
                             usage)
from webapp.web import render_page_or_fragment

MY_APPS_FRAGMENTS = {"my-apps-table": "my_apps_table"}


@bp.route("/")
@login_required
def overview():
    log = request_log()
    sections = {}
    if not log_fragment_requested():  # only the log is rendered: skip the other sections
        workspace_id = current_user.workspace_id
        sections = dict(attention=attention.needs_attention(db.session, current_user),
                        summary=summary.app_summary(db.session, workspace_id),
                        resources=summary.general_resources(db.session),
                        discover=marketplace.discover_apps(db.session, workspace_id))
    return render_page_or_fragment("connected_apps/overview.html", LOG_FRAGMENTS, log.status,
                                   log=log, active_tab="overview", **sections)


@bp.route("/my-apps")
@login_required
def my_apps():
    status = installations.parse_status_filter(request.args.get("status"))
    not_used_for = usage.parse_usage_filter(request.args.get("usage"))
    workspace = current_user.workspace
    now = utcnow()
    rows = installations.installed_installations(db.session, workspace.id, status,
                                                 not_used_for=not_used_for, now=now)
    mine = connections.connected_app_ids(db.session, workspace.id, current_user.id)
    # The update flag is kept true to the scopes available after re-authentication.
    row_actions = {row.id: policy.installation_actions(
        row, current_user, connected_myself=row.app_id in mine, new_scopes=row.update_available)
        for row in rows}
    return render_page_or_fragment(
        "connected_apps/my_apps.html", MY_APPS_FRAGMENTS, active_tab="my_apps",
        installations=rows, row_actions=row_actions, status_filter=status or "",
        status_filters=installations.STATUS_FILTERS, status_labels=installations.STATUS_LABELS,
        filter_phrase=installations.filter_phrase(status) if status else "",
        usage_filter=not_used_for, usage_filters=usage.USAGE_FILTER_DAYS,
        zone=workspace.timezone, now=now,
        last_used=usage.last_used_by_installation(db.session, workspace.id,
                                                  [row.id for row in rows]))
