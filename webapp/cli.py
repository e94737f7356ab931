"""`flask --app wsgi ...` commands, registered in one place."""
from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from webapp.commands.apps import apps
    from webapp.commands.demo import demo
    from webapp.commands.health import health
    from webapp.commands.notifications import notifications
    from webapp.commands.tokens import tokens
    from webapp.commands.usage import resource_servers, usage
    from webapp.commands.users import users
    from worker.cli import scheduler_command, worker_command

    for command in (users, apps, demo, worker_command, scheduler_command,
                    notifications, tokens, resource_servers, usage, health):
        app.cli.add_command(command)
