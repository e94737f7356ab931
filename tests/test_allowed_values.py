"""Columns with a fixed set of values (roles, plans, states, statuses, activities, channels...)
refuse any other value in the database itself, on SQLite and PostgreSQL alike."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import CheckConstraint, text
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Alert, Delivery, Event, ExternalAccount, NotificationRule, UserSession
from tests.conftest import make_app, make_installation

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc)

CONSTRAINED = sorted((table.name, constraint.info["column"])
                     for table in db.metadata.sorted_tables for constraint in table.constraints
                     if isinstance(constraint, CheckConstraint))


@pytest.fixture
def one_row_each(session, people):
    """At least one valid row in every table that has a constrained column."""
    app = make_app(session, "social-hub", install_level="multi_account")
    installation = make_installation(session, people["acme"], app, people["admin"])
    rule = NotificationRule(workspace_id=people["acme"].id, name="Installs", rule_type="app_install",
                            frequency="day", channels=["email"], audience="everyone")
    session.add_all([
        rule,
        Event(workspace_id=people["acme"].id, app_id=app.id, actor_id=people["admin"].id,
              activity="installed", occurred_at=NOW),
        ExternalAccount(workspace_id=people["acme"].id, installation_id=installation.id,
                        external_id="page-1", name="Acme page", status="connected"),
        Alert(workspace_id=people["acme"].id, installation_id=installation.id, source="health",
              key="probe", title="The health check fails"),
        UserSession(id_hash="0" * 64, user_id=people["admin"].id, workspace_id=people["acme"].id,
                    device="Firefox on Linux", created_at=NOW, last_seen_at=NOW),
    ])
    session.flush()
    session.add(Delivery(workspace_id=people["acme"].id, rule_id=rule.id,
                         recipient_id=people["admin"].id, channel="email", window_start=NOW,
                         window_end=NOW, status="pending"))
    session.commit()


def test_every_enumerated_column_is_checked():
    assert ("installations", "state") in CONSTRAINED
    assert ("installations", "status") in CONSTRAINED
    assert ("users", "role") in CONSTRAINED
    assert ("workspaces", "plan") in CONSTRAINED
    assert ("events", "activity") in CONSTRAINED


@pytest.mark.parametrize("table, column", CONSTRAINED)
def test_the_database_refuses_a_value_outside_the_allowed_ones(session, one_row_each, table, column):
    assert session.scalar(text(f"SELECT count(*) FROM {table}")) > 0
    with pytest.raises(IntegrityError):  # 'bogus' fits every column: the CHECK refuses it
        session.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))
        session.flush()
    session.rollback()
