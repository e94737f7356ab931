from flask import render_template
from flask_login import login_required

from webapp.blueprints.connected_apps import bp


@bp.route("/")
@login_required
def overview():
    return render_template("connected_apps/overview.html")
