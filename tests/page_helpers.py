"""Shared by the page tests: statement counting and a workspace with every kind of installation."""
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import event

from tests.conftest import make_app, make_installation
from webapp.extensions import db
from webapp.models import LearningResource


@contextmanager
def statements():
    """Collects the SQL statements sent while the block runs (to bound query counts)."""
    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)


def seed_console(session, people):
    """Acme with installations in every status and flag, a multi-account and an uninstalled app."""
    acme = people["acme"]
    made = {}
    specs = [
        ("crm-sync", dict(), dict(status="connected")),
        ("mail-bridge", dict(), dict(status="error", update_available=True)),
        ("drive-link", dict(install_level="user"), dict(status="expired", upgrade_available=True)),
        ("chat-ops", dict(), dict(status="disconnected")),
        ("social-hub", dict(install_level="multi_account"), dict(status="connected")),
        ("old-tool", dict(), dict(state="uninstalled", status="disconnected",
                                  uninstalled_at=datetime(2026, 11, 20, tzinfo=timezone.utc))),
    ]
    for slug, app_fields, fields in specs:
        app = make_app(session, slug, **app_fields)
        made[slug] = make_installation(session, acme, app, installed_by=people["admin"], **fields)
    make_app(session, "not-installed", category="Finance")
    made["globex-only"] = make_installation(session, people["globex"],
                                            make_app(session, "globex-only"), status="error")
    session.add_all([
        LearningResource(title="Connected apps in 5 minutes", url="https://example.com/a", minutes=5),
        LearningResource(title="Securing app access", url="https://example.com/b", minutes=8,
                         position=1),
    ])
    session.commit()
    return made
