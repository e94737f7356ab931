"""The Redis connection and RQ queues, created lazily from the app's settings."""
from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue

QUEUE_NAMES = ("default",)


def redis_connection() -> Redis:
    connection = current_app.extensions.get("redis")
    if connection is None:
        connection = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1,
                                    socket_timeout=5)
        current_app.extensions["redis"] = connection
    return connection


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def usage_redis() -> Redis | None:
    """The connection API calls are counted on, with short timeouts: a Redis that hangs delays an
    introspection by at most a quarter of a second, then counting pauses (see usage.counting).
    A benchmark sets it to None to measure without counting."""
    if "usage_redis" not in current_app.extensions:
        current_app.extensions["usage_redis"] = Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=0.25, socket_timeout=0.25)
    return current_app.extensions["usage_redis"]
