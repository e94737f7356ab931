"""The periodic work, declared as data: each entry is passed to RQ's CronScheduler.register()."""
from __future__ import annotations

from worker.jobs import send_due_notifications

SCHEDULE: list[dict] = [
    # Every minute: close the notification windows that ended (top of hour, midnight, Monday,
    # 1st of month, in each workspace's timezone) and relay deliveries that wait for Redis or
    # lost their worker. Running it more often than needed is harmless: it is idempotent.
    {"func": send_due_notifications, "queue_name": "default", "cron": "* * * * *",
     "job_timeout": 600, "name": "notifications send-due"},
]
