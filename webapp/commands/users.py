from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.extensions import db

users = AppGroup("users", help="Manage users.")


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["super_admin", "admin", "user"]))
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--workspace", "workspace_slug", default="demo", show_default=True)
def create_user_command(email, role, password, name, workspace_slug):
    """Add a user; the workspace is created if it does not exist."""
    from webapp.services.accounts import AccountError, create_user, get_or_create_workspace

    try:
        workspace = get_or_create_workspace(db.session, workspace_slug)
        user = create_user(db.session, workspace, email, password, role=role, name=name)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"created {user.email} ({user.role}) in workspace {workspace.slug}")
