"""The JSON API for apps (`/api/v1/...`), authenticated by OAuth bearer access tokens.

Browsers' session cookies are not accepted here, so CSRF does not apply: the blueprint is exempt.
"""
from flask import Blueprint

from webapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

from webapp.blueprints.api import accounts, installation_alerts, openapi  # noqa: E402,F401
