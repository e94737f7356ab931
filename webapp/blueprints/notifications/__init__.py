"""The Notifications tab (rules and their wizard) and the notification center."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

from webapp.blueprints.notifications import center, rules  # noqa: E402,F401
