"""Links built outside requests (emails, in-app notifications, OAuth metadata) point at the
routes that serve them: moving a blueprint fails here, not in people's inboxes."""
import inspect

import pytest
from flask import url_for

from webapp.services.links import ConsoleLinks

LINKS = ConsoleLinks("https://console.example/base")

# Each link of the builder: its arguments, and the route (with values) it must point to.
ROUTES = {
    "connected_apps": ((), "connected_apps.overview", {}),
    "app_page": (("crm-sync",), "connected_apps.app_page", {"slug": "crm-sync"}),
    "manage_rule": ((42,), "notifications.manage_rule", {"rule_id": 42}),
    "notification_center": ((), "notifications.center", {}),
    "oauth_authorize": ((), "oauth.authorize", {}),
    "oauth_token": ((), "oauth.token", {}),
    "oauth_revoke": ((), "oauth.revoke", {}),
    "oauth_introspect": ((), "oauth.introspect", {}),
}


def _links() -> set[str]:
    return {name for name, _ in inspect.getmembers(ConsoleLinks, inspect.isfunction)
            if not name.startswith("_") and name != "path_of"}


def test_every_link_of_the_builder_is_checked_against_a_route():
    assert _links() == set(ROUTES)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_a_link_is_the_public_url_followed_by_its_routes_path(app, name):
    args, endpoint, values = ROUTES[name]
    url = getattr(LINKS, name)(*args)
    with app.test_request_context():
        path = url_for(endpoint, _external=False, **values)
    assert url == "https://console.example/base" + path


def test_a_trailing_slash_on_the_public_url_is_not_doubled():
    assert ConsoleLinks("http://localhost/").notification_center() == "http://localhost/notifications"


def test_in_app_links_are_paths_of_this_console_only():
    assert LINKS.path_of(LINKS.app_page("crm-sync")) == "/settings/connected-apps/apps/crm-sync"
    assert LINKS.path_of("https://elsewhere.example/x") == "https://elsewhere.example/x"
