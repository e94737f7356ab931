"""The page of one app installed (or once installed) in the workspace."""
from __future__ import annotations

from flask_login import current_user, login_required

from webapp.blueprints.connected_apps import bp
from webapp.blueprints.connected_apps.actions import page_context
from webapp.blueprints.connected_apps.log import LOG_FRAGMENTS, log_fragment_requested, request_log
from webapp.database import utcnow
from webapp.extensions import db
from webapp.services import installations as svc
from webapp.services.external_accounts import list_accounts
from webapp.services.usage import installation_usage
from webapp.services.usage.chart import bar_chart
from webapp.web import render_page_or_fragment


@bp.route("/apps/<slug>")
@login_required
def app_page(slug: str):
    workspace = current_user.workspace
    # NotFound when never installed here, another workspace's, or no such app.
    installation = svc.installation_for_slug(db.session, workspace.id, slug)
    app = installation.app
    catalogue = svc.load_scope_catalogue_for(db.session,
                                             [*app.all_scopes, *installation.granted_scopes])
    multi_account = app.install_level == "multi_account"
    installed = installation.state == "installed"
    log = request_log(fixed_app_id=installation.app_id)
    usage = chart = None
    now = utcnow()
    if not log_fragment_requested():  # only the log is rendered: usage is not shown
        usage = installation_usage(db.session, installation, now)
        chart = bar_chart(usage.daily)
    return render_page_or_fragment(
        "connected_apps/app.html", LOG_FRAGMENTS, log.status, log=log,
        installation=installation, app=app, workspace=workspace, installed=installed,
        multi_account=multi_account, status_labels=svc.STATUS_LABELS,
        alerts=svc.open_alerts(db.session, installation),
        accounts=list_accounts(db.session, installation) if multi_account else [],
        scopes=svc.app_page_scope_groups(app, installation, workspace.plan, catalogue),
        sync_rows=svc.sync_rows(app, installation),
        resources=list(app.resources), usage=usage, usage_chart=chart, now=now,
        **page_context(installation))
