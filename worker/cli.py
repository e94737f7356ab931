"""`flask worker` and `flask scheduler`: RQ processes that run inside the app's context."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import QUEUE_NAMES, redis_connection


@click.command("worker")
@click.option("--burst", is_flag=True, help="Drain the queues, then exit.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with RQ's scheduler for delayed jobs and retries)."""
    from rq import Queue

    from worker.runner import AppWorker

    connection = redis_connection()
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    AppWorker(queues, connection=connection, app=current_app._get_current_object()).work(
        burst=burst, with_scheduler=True)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Enqueue the periodic jobs declared in worker/schedule.py (RQ cron)."""
    from rq.cron import CronScheduler

    from worker.schedule import schedule

    cron = CronScheduler(connection=redis_connection())
    for entry in schedule(current_app.config):
        cron.register(**entry)
    cron.start()
