from flask_login import login_required

from webapp.blueprints.connected_apps import bp
from webapp.blueprints.connected_apps.log import page_with_log


@bp.route("/")
@login_required
def overview():
    return page_with_log("connected_apps/overview.html", active_tab="overview")
