from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.extensions import db

demo = AppGroup("demo", help="Demo data.")


@demo.command("seed")
@click.option("--events", "event_count", default=2000, show_default=True, type=click.IntRange(min=0),
              help="About how many log events to spread over the past 90 days, each app's "
                   "following its lifecycle (installed, connected, sync settings) into the "
                   "installation's seeded state; the few events of the seeded histories come on "
                   "top. Only while the demo workspace has no events.")
@click.option("--password", default=None,
              help="Password of the demo users (new users get demo-password when omitted; "
                   "given, it also resets the existing demo users' passwords).")
def seed_command(event_count: int, password: str) -> None:
    """Create the demo workspace, its users, the catalogue and installations (idempotent)."""
    from webapp.services.accounts import AccountError
    from webapp.services.demo import seed_demo

    try:
        result = seed_demo(db.session, event_count=event_count, password=password)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(result.summary())
