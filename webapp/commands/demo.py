from __future__ import annotations

import click
from flask import current_app
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
        result = seed_demo(db.session, event_count=event_count, password=password,
                           apps_url=current_app.config["DEMO_APPS_URL"],
                           apps_file=current_app.config["DEMO_APPS_FILE"],
                           ttl_days=current_app.config["REFRESH_TOKEN_TTL"])
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(result.summary())


@demo.command("host")
@click.option("--port", default=8901, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the demo apps' host; the seed points the apps at DEMO_APPS_URL.")
@click.option("--host", "bind", default="127.0.0.1", show_default=True,
              help="Address to listen on.")
def host_command(port: int, bind: str) -> None:
    """Serve the demo catalogue's apps (install pages, callbacks, health endpoints, accounts)
    and their control page, as OAuth clients of the console at PUBLIC_URL."""
    from werkzeug.serving import make_server

    from webapp.demo_host import create_host

    config = current_app.config
    host = create_host({"CONSOLE_URL": config["PUBLIC_URL"], "BASE_URL": config["DEMO_APPS_URL"],
                        "APPS_FILE": config["DEMO_APPS_FILE"]})
    if not host.extensions["demo_apps_file"].read()["apps"]:
        click.echo("The demo apps file holds no app yet: run `flask demo seed` first.", err=True)
    server = make_server(bind, port, host, threaded=True)
    click.echo(f"Demo apps on http://{bind}:{port} (control page at /), "
               f"console at {config['PUBLIC_URL']}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
