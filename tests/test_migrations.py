"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL alike."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.extensions import db


def test_migrated_database_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_are_at_their_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    with app.app_context(), db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        config = Config(app.extensions["migrate"].directory + "/alembic.ini")
        config.set_main_option("script_location", app.extensions["migrate"].directory)
        head = ScriptDirectory.from_config(config).get_current_head()
    assert current == head
