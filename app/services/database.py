"""Schema migrations: apply them, and check that the database matches this version's code."""

from __future__ import annotations

import logging

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

log = logging.getLogger("boxset.migrations")


class MigrationFailed(RuntimeError):
    """An upgrade failed; its transaction was rolled back."""


class SchemaOutOfDate(RuntimeError):
    """The database is not at the revision this code expects."""


def _alembic_config(app: Flask):
    return app.extensions["migrate"].migrate.get_config(app.config["MIGRATIONS_DIR"])


def head_revision(app: Flask) -> str | None:
    with app.app_context():
        return ScriptDirectory.from_config(_alembic_config(app)).get_current_head()


def current_revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(app: Flask, target: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to `target`; on failure everything done by this run is rolled back."""
    with app.app_context():
        try:
            before = current_revision(app)
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise MigrationFailed(
                f"cannot reach the database: {type(exc).__name__}: {reason}"
            ) from exc
        try:
            command.upgrade(_alembic_config(app), target)
        except Exception as exc:
            after = current_revision(app)
            raise MigrationFailed(
                f"database migration failed and was rolled back (the database is still at "
                f"revision {after or 'base'}): {type(exc).__name__}: {exc}"
            ) from exc
        return before, current_revision(app)


def downgrade_database(app: Flask, target: str) -> None:
    with app.app_context():
        command.downgrade(_alembic_config(app), target)


def ensure_schema_current(app: Flask) -> None:
    """Refuse to serve against a database whose schema does not match the code."""
    current, head = current_revision(app), head_revision(app)
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'base (empty)'} but this version "
            f"of Boxset needs {head}; run `flask --app run boxset upgrade` (make run and the "
            "container entrypoint do this) and check its output"
        )
