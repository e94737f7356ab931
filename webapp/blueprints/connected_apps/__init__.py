"""Settings > Integrations > Connected apps: overview, my apps, app pages and the app log."""
from flask import Blueprint

bp = Blueprint("connected_apps", __name__, url_prefix="/settings/connected-apps")

from webapp.blueprints.connected_apps import actions, app_page, pages  # noqa: E402,F401
