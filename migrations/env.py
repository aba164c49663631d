"""Alembic environment for Boxset.

Every revision runs inside one transaction on PostgreSQL *and* SQLite, so a failing upgrade
leaves the database exactly as it was. SQLite's driver does not open transactions for DDL by
itself; the dedicated engine below makes it (isolation_level=None + an explicit BEGIN).
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, event
from sqlalchemy.types import TypeDecorator

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def _url():
    return migrate_ext.db.engine.url


def run_migrations_offline():
    context.configure(
        url=_url().render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(type_, obj, _autogen_context):
    """Render our TypeDecorators as the plain SQLAlchemy type they store."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _skip_empty_autogenerate(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def _transactional_sqlite_engine(url):
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


def run_migrations_online():
    conf_args = dict(migrate_ext.configure_args)
    conf_args.setdefault("process_revision_directives", _skip_empty_autogenerate)
    conf_args.setdefault("render_item", _render_item)
    url = _url()
    if url.get_backend_name() == "sqlite":
        engine = _transactional_sqlite_engine(url)
        conf_args.setdefault("transactional_ddl", True)
    else:
        engine = migrate_ext.db.engine
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if engine is not migrate_ext.db.engine:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
