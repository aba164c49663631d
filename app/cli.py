"""`flask boxset ...`: the operator commands. Each calls a service."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.services import database

boxset = AppGroup("boxset", help="Boxset operations.")


@boxset.command("upgrade")
def upgrade_command() -> None:
    """Apply all pending migrations (rolled back completely on failure)."""
    app = current_app._get_current_object()
    try:
        before, after = database.upgrade_database(app)
    except database.MigrationFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"database at revision {after} (was {before or 'empty'})")


@boxset.command("init")
def init_command() -> None:
    """Create roles and permissions (idempotent; run after every upgrade)."""
    app = current_app._get_current_object()
    try:
        database.ensure_schema_current(app)
    except database.SchemaOutOfDate as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    counts = app.appbuilder.sm.bootstrap()
    click.echo(
        "roles ready: Admin ({admin_permissions} permissions), "
        "Member ({member_permissions} permissions)".format(**counts)
    )


@boxset.command("check-schema")
def check_schema_command() -> None:
    """Exit non-zero when the database is not at the latest revision."""
    try:
        database.ensure_schema_current(current_app._get_current_object())
    except database.SchemaOutOfDate as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo("schema is current")


@boxset.command("rotate-integration-keys")
def rotate_integration_keys_command() -> None:
    """Re-encrypt stored provider secrets with the current INTEGRATION_ENCRYPTION_KEY."""
    from app.services import integrations

    count, unreadable = integrations.rotate_secrets()
    click.echo(f"re-encrypted {count} secret(s)")
    for space_id, setting in unreadable:
        click.echo(
            f"unreadable: space {space_id} {setting} (re-enter it under Integrations)", err=True
        )
    if unreadable:
        sys.exit(1)


@boxset.command("worker")
@click.option("--workers", "-w", default=None, type=int, help="Worker threads (HUEY_WORKERS).")
def worker_command(workers: int | None) -> None:
    """Run a standalone job consumer in the foreground."""
    from app.jobs import run_consumer

    app = current_app._get_current_object()
    run_consumer(app, workers or app.config["HUEY_WORKERS"])


def register(app: Flask) -> None:
    app.cli.add_command(boxset)
