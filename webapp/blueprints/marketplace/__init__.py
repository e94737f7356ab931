"""The marketplace: the deployment's catalogue of apps."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("marketplace", __name__, url_prefix="/marketplace")


@bp.route("/")
@login_required
def index():
    return render_template("marketplace/index.html")
