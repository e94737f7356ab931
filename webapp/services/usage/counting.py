"""Counting API calls: in memory on the request, in Redis a moment later, never slowing a call.

Each UTC hour has one Redis hash, `usage:hour:YYYYMMDDHH`, whose fields are
`{installation_id}:` (the installation's total) and `{installation_id}:{scope}` (calls that
needed that scope). The fold moves these hashes into the usage table every minute.

A request adds its increments to its process's UsageCounter (a dict under a lock); the counter's
sender thread sends what is pending as one pipeline (HINCRBY per field, EXPIRE per hour) at most
every FLUSH_SECONDS. A slow or busy Redis thus never delays an API call, and while Redis is down
the counts wait in the process and are sent when it answers again.

What can be lost: the counts pending in a process that dies without exiting (a crash, SIGKILL:
at most FLUSH_SECONDS of its calls); those still waiting when a process exits while Redis is down;
calls needing new counters beyond MAX_PENDING while Redis stays down; and a batch whose sending
failed midway (it may have arrived, so it is never sent twice). The log says each of these.
"""
from __future__ import annotations

import atexit
import logging
import os
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


def _increments(installation_id: int, scopes: list[str], now: datetime) -> list[tuple[str, str]]:
    key = hour_key(now)
    return [(key, usage_field(installation_id))] + [
        (key, usage_field(installation_id, scope)) for scope in scopes]


def send_counts(redis: Redis, counts: dict[tuple[str, str], int]) -> None:
    """Adds counts ({(hour key, field): calls}) to Redis in one pipeline; raises RedisError."""
    pipe = redis.pipeline(transaction=False)
    for (key, field), calls in counts.items():
        pipe.hincrby(key, field, calls)
    for key in {key for key, _ in counts}:
        pipe.expire(key, KEEP_IN_REDIS)
    pipe.execute()


def count_api_call(redis: Redis | None, installation_id: int, scopes: list[str],
                   now: datetime) -> bool:
    """Counts one API call of the installation, and one per scope it needed, right now: one
    pipelined round trip. Returns whether it was counted; a Redis failure is logged, never
    raised. The request path uses UsageCounter instead, which does not wait for Redis."""
    if redis is None:
        return False
    try:
        send_counts(redis, dict.fromkeys(_increments(installation_id, scopes, now), 1))
    except RedisError as error:
        log.warning("API call of installation %s not counted: Redis failed (%s: %s)",
                    installation_id, type(error).__name__, error)
        return False
    return True


FLUSH_SECONDS = 0.1
RETRY_SECONDS = 1.0
MAX_PENDING = 100_000  # distinct (hour, installation, scope) counters kept while Redis fails


def _calls_in(counts: dict[tuple[str, str], int]) -> int:
    return sum(calls for (_, field), calls in counts.items() if field.endswith(":"))


class UsageCounter:
    """One process's API call counts on their way to Redis (see the module's description)."""

    def __init__(self, redis: Redis, flush_seconds: float = FLUSH_SECONDS,
                 max_pending: int = MAX_PENDING):
        self.redis = redis
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self._reset()
        _counters.add(self)

    def _reset(self) -> None:
        """A fresh state; also in a forked child, which inherits neither the thread nor a
        usable lock."""
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._pending: dict[tuple[str, str], int] = {}
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failing = False
        self._full = False
        self.lost = 0  # calls not counted, since this counter began

    def count(self, installation_id: int, scopes: list[str], now: datetime) -> None:
        """Counts one API call of the installation and one per scope it needed; returns at once."""
        increments = _increments(installation_id, scopes, now)
        with self._lock:
            pending = self._pending
            if len(pending) + len(increments) > self.max_pending and any(
                    item not in pending for item in increments):
                self.lost += 1
                full, self._full = not self._full, True
            else:
                full = False
                for item in increments:
                    pending[item] = pending.get(item, 0) + 1
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._send_forever, daemon=True,
                                                name="usage-counter")
                self._thread.start()
        if full:
            log.warning("API usage: %d counters wait for Redis in this process; further calls "
                        "are not counted until Redis answers", self.max_pending)
        self._wake.set()

    def flush(self) -> bool:
        """Sends what is pending now; True when nothing is left waiting."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return True
            try:
                self.redis.ping()
            except RedisError as error:
                self._keep(batch)
                if not self._failing:
                    self._failing = True
                    log.warning("API usage cannot be sent to Redis (%s: %s); the counts wait in "
                                "this process until it answers", type(error).__name__, error)
                return False
            try:
                send_counts(self.redis, batch)
            except RedisError as error:
                calls = _calls_in(batch)
                with self._lock:
                    self.lost += calls
                log.warning("API usage: sending %d calls' counts to Redis failed midway (%s: %s); "
                            "they may have arrived, so they are not sent again", calls,
                            type(error).__name__, error)
                return False
            if self._failing:
                self._failing = False
                log.warning("API usage is sent to Redis again")
            return True

    def _keep(self, batch: dict[tuple[str, str], int]) -> None:
        with self._lock:
            for item, calls in batch.items():
                if item in self._pending or len(self._pending) < self.max_pending:
                    self._pending[item] = self._pending.get(item, 0) + calls
                elif item[1].endswith(":"):
                    self.lost += calls
            self._full = len(self._pending) >= self.max_pending

    def _send_forever(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.flush_seconds)  # let the calls of the moment share one pipeline
            if not self.flush():
                time.sleep(RETRY_SECONDS)
                self._wake.set()

    def close(self) -> None:
        """Sends what is pending and stops the sender (at exit; a test's end)."""
        self._closed = True
        self._wake.set()
        if self.flush():
            return
        with self._lock:
            waiting, self._pending = _calls_in(self._pending), {}
            self.lost += waiting
        if waiting:
            log.warning("API usage: %d calls not counted, Redis did not answer before counting "
                        "stopped (the process ending)", waiting)


_counters: weakref.WeakSet = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for counter in list(_counters):
        counter._reset()


def _at_exit() -> None:
    for counter in list(_counters):
        if not counter._closed:
            counter.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)


def count_introspection(counter: UsageCounter | None, token, requested_scope: str | None,
                        now: datetime) -> bool:
    """Counts a resource server's introspection of an active access token as one API call of
    the token's installation, and one per scope in `requested_scope` (space-separated: what the
    call being served needs) that the token holds. `counter` None means counting is off."""
    if counter is None:
        return False
    held = set((token.scope or "").split())
    needed = [name for name in dict.fromkeys((requested_scope or "").split()) if name in held]
    counter.count(token.grant.installation_id, needed, now)
    return True
