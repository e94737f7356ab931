"""Counting API calls on the hot path: one pipelined round trip to Redis per call, never failing.

Each UTC hour has one Redis hash, `usage:hour:YYYYMMDDHH`, whose fields are
`{installation_id}:` (the installation's total) and `{installation_id}:{scope}` (calls that
needed that scope). The fold moves these hashes into the usage table every minute.

While Redis fails, calls are answered but not counted: those counts are lost. The log says so
once when counting stops and once, with the number lost in this process, when it resumes.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from datetime import datetime, timedelta, timezone

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

HOUR_KEY_PREFIX = "usage:hour:"
HOUR_FORMAT = "%Y%m%d%H"
# How long counts wait in Redis for the fold; a fold that has not run for this long loses them.
KEEP_IN_REDIS = timedelta(days=8)


def hour_of(moment: datetime) -> datetime:
    """The UTC hour a moment falls in, truncated."""
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def hour_key(hour: datetime) -> str:
    return HOUR_KEY_PREFIX + hour_of(hour).strftime(HOUR_FORMAT)


def parse_hour(text: str) -> datetime:
    return datetime.strptime(text, HOUR_FORMAT).replace(tzinfo=timezone.utc)


def usage_field(installation_id: int, scope: str = "") -> str:
    return f"{installation_id}:{scope}"


class _Outage:
    """One connection's failures: said once per outage, not once per call; and while it fails,
    tried again only every RETRY_SECONDS, so that a Redis that hangs does not slow every call."""

    RETRY_SECONDS = 1.0

    def __init__(self):
        self.lock = threading.Lock()
        self.lost = 0
        self.retry_at = 0.0

    def skipping(self) -> bool:
        if not self.lost or time.monotonic() >= self.retry_at:
            return False
        with self.lock:
            self.lost += 1
        return True

    def failed(self, error: Exception) -> None:
        with self.lock:
            self.lost += 1
            first = self.lost == 1
            self.retry_at = time.monotonic() + self.RETRY_SECONDS
        if first:
            log.warning("API usage is not being counted: Redis failed (%s: %s); calls answered "
                        "until it is back are not counted", type(error).__name__, error)

    def succeeded(self) -> None:
        if not self.lost:
            return
        with self.lock:
            lost, self.lost = self.lost, 0
        if lost:
            log.warning("API usage is counted again; %d API calls were not counted while Redis "
                        "failed", lost)


_outages: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_outages_lock = threading.Lock()


def _outage(redis: Redis) -> _Outage:
    outage = _outages.get(redis)
    if outage is None:
        with _outages_lock:
            outage = _outages.setdefault(redis, _Outage())
    return outage


def count_api_call(redis: Redis | None, installation_id: int, scopes: list[str],
                   now: datetime) -> bool:
    """Counts one API call of the installation, and one for each scope the call needed.

    One round trip (a non-transactional pipeline: the fold's claim may fall between two of its
    increments, and then each is simply folded in its own batch). Returns whether the call was
    counted; a Redis failure is logged, never raised. `redis` None means counting is off.
    """
    if redis is None:
        return False
    outage = _outage(redis)
    if outage.skipping():
        return False
    key = hour_key(now)
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(key, usage_field(installation_id), 1)
        for scope in scopes:
            pipe.hincrby(key, usage_field(installation_id, scope), 1)
        pipe.expire(key, KEEP_IN_REDIS)
        pipe.execute()
    except RedisError as error:
        outage.failed(error)
        return False
    outage.succeeded()
    return True


def count_introspection(redis: Redis | None, token, requested_scope: str | None,
                        now: datetime) -> bool:
    """Counts a resource server's introspection of an active access token as one API call of
    the token's installation, and one per scope in `requested_scope` (space-separated: what the
    call being served needs) that the token holds."""
    held = set((token.scope or "").split())
    needed = [name for name in dict.fromkeys((requested_scope or "").split()) if name in held]
    return count_api_call(redis, token.grant.installation_id, needed, now)
