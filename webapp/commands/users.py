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


def _user_by_email(email: str):
    from sqlalchemy import func, select

    from webapp.models import User

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    return user


@users.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(email, password):
    """Set a user's password; every session of theirs ends."""
    from webapp.database import utcnow
    from webapp.services.accounts import set_password
    from webapp.services.errors import DomainError

    user = _user_by_email(email)
    try:
        ended = set_password(db.session, user, password, utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"password set for {user.email}; {ended} session(s) ended")


@users.command("deactivate")
@click.argument("email")
def deactivate_command(email):
    """Stop a user from logging in; every session of theirs ends at once."""
    from webapp.database import utcnow
    from webapp.services.accounts import deactivate_user

    user = _user_by_email(email)
    ended = deactivate_user(db.session, user, utcnow())
    db.session.commit()
    click.echo(f"deactivated {user.email}; {ended} session(s) ended")
