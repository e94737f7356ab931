"""Extensions created unbound; create_app() binds them. The app's Redis clients are made on
first use, from its REDIS_URL."""
from flask import current_app
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from rq import Queue

from webapp.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

QUEUE_NAMES = ("default",)


def redis_connection() -> Redis:
    connection = current_app.extensions.get("redis")
    if connection is None:
        # Short timeouts: with Redis down, pages and commands go on and deliveries wait.
        connection = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1,
                                    socket_timeout=5)
        current_app.extensions["redis"] = connection
    return connection


def work_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def usage_counter():
    """The process's API call counter (webapp.services.usage.counting.UsageCounter). It sends to
    Redis from a thread of its own, so no request waits for Redis; hence timeouts as for
    redis_connection. A benchmark sets it to None to measure without counting."""
    if "usage_counter" not in current_app.extensions:
        from webapp.services.usage.counting import UsageCounter

        current_app.extensions["usage_counter"] = UsageCounter(Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=5))
    return current_app.extensions["usage_counter"]
