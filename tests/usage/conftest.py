"""Fixtures for API usage: the test Redis emptied of usage keys, a registered resource server,
and the OAuth flow of tests/oauth to get real tokens."""
from __future__ import annotations

import pytest
from redis import Redis

from tests.conftest import TEST_REDIS_URL
from tests.oauth.conftest import (  # noqa: F401  (fixtures)
    basic_auth, client_app, flow, other_client)
from webapp.services.resource_servers import register_resource_server


def clear_usage_keys(redis: Redis) -> None:
    keys = list(redis.scan_iter("usage:*"))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def redis(app):
    """The test Redis with no usage counted yet; it is also the one introspection counts on."""
    connection = Redis.from_url(TEST_REDIS_URL)
    clear_usage_keys(connection)
    app.extensions["usage_redis"] = connection
    yield connection
    app.extensions.pop("usage_redis", None)
    clear_usage_keys(connection)
    connection.close()


class ApiServer:
    """A registered resource server introspecting tokens the way an API does."""

    def __init__(self, client, client_id: str, secret: str):
        self.client = client
        self.client_id = client_id
        self.secret = secret

    def introspect(self, token: str, scope: str | None = None, **form):
        data = {"token": token, **form}
        if scope is not None:
            data["scope"] = scope
        return self.client.post("/oauth/introspect", data=data,
                                headers=basic_auth(self.client_id, self.secret))


@pytest.fixture
def contacts_api(app, session, redis):
    registration = register_resource_server(session, "Contacts API")
    session.commit()
    credentials = registration.as_json()
    return ApiServer(app.test_client(), credentials["client_id"], credentials["client_secret"])
