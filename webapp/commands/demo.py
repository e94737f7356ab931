from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.extensions import db

demo = AppGroup("demo", help="Demo data.")


@demo.command("seed")
@click.option("--events", "event_count", default=2000, show_default=True, type=click.IntRange(min=0),
              help="How many log events to spread over the past 90 days.")
@click.option("--password", default="demo-password", show_default=True,
              help="Password of the three demo users.")
def seed_command(event_count: int, password: str) -> None:
    """Create the demo workspace, its users, the catalogue and installations (idempotent)."""
    from webapp.services.demo import seed_demo

    summary = seed_demo(db.session, event_count=event_count, password=password)
    click.echo(summary)
