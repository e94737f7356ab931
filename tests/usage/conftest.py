"""Fixtures for API usage: the test Redis emptied of usage keys, a registered resource server,
and the OAuth flow of tests/oauth to get real tokens."""
from __future__ import annotations

import pytest
from redis import Redis

from tests.conftest import TEST_REDIS_URL
from tests.oauth.conftest import (  # noqa: F401  (fixtures)
    basic_auth, client_app, flow, other_client)
from webapp.services.resource_servers import register_resource_server
from webapp.services.usage import UsageCounter


def clear_usage_keys(redis: Redis) -> None:
    keys = list(redis.scan_iter("usage:*"))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def redis(app):
    """The test Redis with no usage counted yet; introspections are counted on it."""
    connection = Redis.from_url(TEST_REDIS_URL)
    clear_usage_keys(connection)
    app.extensions["usage_counter"] = UsageCounter(connection)
    yield connection
    app.extensions.pop("usage_counter").close()
    clear_usage_keys(connection)
    connection.close()


@pytest.fixture
def make_counter():
    """make_counter(url, **options): a UsageCounter that sends only when told to (flush), closed
    when the test ends."""
    made = []

    def make(url: str, **options) -> UsageCounter:
        options.setdefault("flush_seconds", 3600)
        counter = UsageCounter(Redis.from_url(url, socket_connect_timeout=0.25,
                                              socket_timeout=options.pop("socket_timeout", 1)),
                               **options)
        made.append(counter)
        return counter

    yield make
    for counter in made:
        counter.close()


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own, to stop, start and pause without touching anyone's."""
    from testsupport.redis_server import RedisServer

    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


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
