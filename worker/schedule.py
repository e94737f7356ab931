"""The periodic work, declared as data: each entry is passed to RQ's CronScheduler.register().

The entries depend on the settings only where an interval is configurable.
"""
from __future__ import annotations

from collections.abc import Mapping

from worker.jobs import expire_tokens, fold_usage, probe_health, send_due_notifications


def schedule(config: Mapping) -> list[dict]:
    return [
        # Every minute: close the notification windows that ended (top of hour, midnight,
        # Monday, 1st of month, in each workspace's timezone) and relay deliveries that wait for
        # Redis or lost their worker. Running it more often than needed is harmless: it is
        # idempotent.
        {"func": send_due_notifications, "queue_name": "default", "cron": "* * * * *",
         "job_timeout": 600, "name": "notifications send-due"},
        # Hourly: end refresh tokens unused for REFRESH_TOKEN_TTL days (idempotent too).
        {"func": expire_tokens, "queue_name": "default", "cron": "7 * * * *",
         "job_timeout": 600, "name": "tokens expire"},
        # Every minute: move the API calls counted in Redis into the usage table, so that "Last
        # used" and the usage chart lag by a minute at most. Idempotent, like the above.
        {"func": fold_usage, "queue_name": "default", "cron": "* * * * *",
         "job_timeout": 300, "name": "usage fold"},
        # Every HEALTH_PROBE_INTERVAL seconds: probe the installed apps' health URLs. A round
        # is bounded (health_probes.ROUND_SECONDS), well within the job's timeout.
        {"func": probe_health, "queue_name": "default",
         "interval": config["HEALTH_PROBE_INTERVAL"], "job_timeout": 300,
         "name": "health probe"},
    ]
