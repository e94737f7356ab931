"""/problems: what each problem type named in a problem+json answer means (public, like the API
description, so a program's author can look a `type` up)."""
from __future__ import annotations

from flask import Blueprint, render_template

from webapp.errors_http import problem_types

bp = Blueprint("problems", __name__)


@bp.route("/problems")
def index():
    return render_template("problems.html", types=problem_types())
