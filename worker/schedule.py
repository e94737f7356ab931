"""The periodic work, declared as data: each entry is passed to RQ's CronScheduler.register()."""
from __future__ import annotations

SCHEDULE: list[dict] = []
