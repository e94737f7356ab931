"""Every blueprint of the console, registered in one place."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from webapp.blueprints.auth import bp as auth_bp
    from webapp.blueprints.connected_apps import bp as connected_apps_bp
    from webapp.blueprints.health import bp as health_bp
    from webapp.blueprints.marketplace import bp as marketplace_bp
    from webapp.blueprints.notifications import bp as notifications_bp
    from webapp.blueprints.oauth import bp as oauth_bp
    from webapp.blueprints.problems import bp as problems_bp
    from webapp.blueprints.settings import bp as settings_bp

    for blueprint in (auth_bp, health_bp, settings_bp, connected_apps_bp, marketplace_bp,
                      oauth_bp, notifications_bp, problems_bp):
        app.register_blueprint(blueprint)

    from webapp.blueprints.api import bp as api_bp

    app.register_blueprint(api_bp)
