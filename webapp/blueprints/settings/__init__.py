"""Settings home: the workspace at a glance, and the sidebar that leads to integrations."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Team, User

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/")
@login_required
def index():
    workspace_id = current_user.workspace_id
    members = db.session.scalar(select(func.count(User.id)).where(User.workspace_id == workspace_id))
    teams = db.session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                               .order_by(Team.name)).all()
    return render_template("settings/index.html", workspace=current_user.workspace, members=members,
                           teams=teams)


from webapp.blueprints.settings import account  # noqa: E402,F401  (registers its routes on bp)
