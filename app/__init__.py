"""Boxset application factory. Nothing here runs at import time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_appbuilder import AppBuilder
from sqlalchemy import event

from config import load_config


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    app.json.sort_keys = False  # answers keep the order they are built in
    _database_options(app)

    from app import audit, cli, errors, jobs, ratelimit, session_store, web
    from app.extensions import csrf, db, migrate
    from app.services import catalog_revision
    from app.views import pages

    web.configure_logging(app.config["LOG_FORMAT"])
    with app.app_context():
        db.init_app(app)
        migrate.init_app(
            app,
            db,
            directory=app.config["MIGRATIONS_DIR"],
            render_as_batch=True,
            compare_type=True,
            include_object=_managed_by_models,
        )
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            event.listen(db.engine, "connect", _sqlite_connect)
            event.listen(db.engine, "begin", _sqlite_begin)
        catalog_revision.install()
        csrf.init_app(app)  # before Flask-AppBuilder, so its API blueprints are exempted
        from app import models  # noqa: F401  (registers every table on the shared metadata)

        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        from app.views import register_views

        register_views(appbuilder)
        ratelimit.apply_rate_limits(app)

    session_store.init_sessions(app)
    web.init_web(app)
    audit.init_audit(app)  # its after_request runs after the error shape is normalised
    errors.register_error_handlers(app)
    jobs.bind_huey(app)
    jobs.register_jobs()
    cli.register(app)
    pages.init_pages(app)

    @app.context_processor
    def _build_info() -> dict[str, Any]:
        cfg = app.config
        return {
            "boxset_build": {
                "version": cfg["APP_VERSION"],
                "git_sha": cfg["GIT_SHA"],
                "build_date": cfg["BUILD_DATE"],
            }
        }

    return app


def _managed_by_models(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any):
    """Indexes named `pgx_*` exist only on PostgreSQL (descending NULLS LAST sort indexes the
    migrations create there); autogenerate and `db check` leave them alone."""
    return not (type_ == "index" and name and name.startswith("pgx_"))


def _database_options(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    elif uri.startswith("postgresql"):
        options.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys, use WAL so web and job threads share it, and let
    SQLAlchemy own transactions (pysqlite's implicit ones break SAVEPOINTs)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Writers (unsafe requests, jobs) take SQLite's write lock up front (BEGIN IMMEDIATE,
    waiting up to the busy timeout), so a read-then-write transaction never fails to upgrade
    its lock under the embedded server's threads. Reads stay deferred and run concurrently."""
    from flask import g, has_app_context, has_request_context, request

    writer = (has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")) or (
        has_app_context() and g.get("writes_database", False)
    )
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
