"""Migrations: up → down → up keeps what it should, models and history agree, and a failing
revision rolls back completely (PostgreSQL and SQLite alike)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.extensions import db
from app.services import database
from tests.conftest import fresh_database
from tests.seed import seed_every_table

pytestmark = pytest.mark.no_db_transaction


def _tables(app) -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """Columns and every row (as {column: repr(value)}) of every table except Alembic's."""
    with app.app_context():
        insp = inspect(db.engine)
        names = [n for n in insp.get_table_names() if n != "alembic_version"]
        with db.engine.connect() as conn:
            result = {}
            for name in names:
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).mappings().all()
                result[name] = (
                    sorted(c["name"] for c in insp.get_columns(name)),
                    [{k: repr(v) for k, v in row.items()} for row in rows],
                )
            return result


def _project(rows: list[dict[str, str]], columns: set[str]) -> list[tuple]:
    return sorted(tuple(row[c] for c in sorted(columns)) for row in rows)


def _assert_kept(before, after, step: str) -> None:
    """Every table that survives the step keeps every row, compared on the columns both
    versions of the table have (a batch-mode rewrite that loses rows fails this)."""
    for name, (columns, rows) in after.items():
        if name not in before:
            continue
        shared = set(columns) & set(before[name][0])
        assert _project(rows, shared) == _project(before[name][1], shared), (
            f"{step} changed the rows of {name}"
        )


def _schema(app) -> dict[str, list[str]]:
    with app.app_context():
        insp = inspect(db.engine)
        return {
            name: sorted(c["name"] for c in insp.get_columns(name))
            for name in insp.get_table_names()
            if name != "alembic_version"
        }


def _revisions(app) -> list[str]:
    with app.app_context():
        script = ScriptDirectory.from_config(database._alembic_config(app))
        return [rev.revision for rev in script.walk_revisions()]  # head first


def test_upgrade_downgrade_upgrade_keeps_data_and_schema(make_app):
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url)
        database.upgrade_database(app)
        seed_every_table(app)
        seeded = _tables(app)
        empty = [name for name, (_cols, rows) in seeded.items() if not rows]
        assert len(_revisions(app)) >= 2
        assert not empty, f"tests/seed.py must put rows in every table; empty: {empty}"
        assert len(seeded) >= 12
        schema_at_head = _schema(app)

        # Walk down one revision at a time; each step, and the step back up, keeps the rows of
        # every table whose shape it does not change.
        for revision in _revisions(app):
            at_revision = _tables(app)
            database.downgrade_database(app, "-1")
            below = _tables(app)
            _assert_kept(at_revision, below, f"downgrade of {revision}")
            database.upgrade_database(app, revision)
            _assert_kept(below, _tables(app), f"re-upgrade to {revision}")
            database.downgrade_database(app, "-1")

        # Full cycle: base → head gives the same schema, and models agree with the history.
        assert _schema(app) == {}
        database.upgrade_database(app)
        assert _schema(app) == schema_at_head
        with app.app_context():
            command.check(database._alembic_config(app))  # raises on any model/history drift
        result = app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output


BAD_REVISION = '''
"""a revision that fails half-way

Revision ID: ffffbad00001
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = "ffffbad00001"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user") as batch_op:
        batch_op.add_column(sa.Column("half_applied", sa.String(20), nullable=True))
    op.create_table("half_applied_table", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO half_applied_table (id) VALUES (1)")
    op.execute("SELECT * FROM no_such_table_anywhere")


def downgrade():
    op.drop_table("half_applied_table")
    with op.batch_alter_table("ab_user") as batch_op:
        batch_op.drop_column("half_applied")
'''


def test_a_failing_migration_rolls_back_and_the_app_refuses_to_start(make_app, app, tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(Path(app.config["MIGRATIONS_DIR"]), migrations)
    head = _revisions(app)[0]
    (migrations / "versions" / "2099_01_01_0000-ffffbad00001_fails.py").write_text(
        textwrap.dedent(BAD_REVISION.format(down=head))
    )
    with fresh_database() as url:
        app_ok = make_app(SQLALCHEMY_DATABASE_URI=url)
        database.upgrade_database(app_ok)
        seed_every_table(app_ok)
        rows_before = _tables(app_ok)

        broken = make_app(SQLALCHEMY_DATABASE_URI=url, MIGRATIONS_DIR=str(migrations))
        with pytest.raises(database.MigrationFailed, match="rolled back"):
            database.upgrade_database(broken)
        assert database.current_revision(broken) == head
        with broken.app_context():
            insp = inspect(db.engine)
            assert "half_applied_table" not in insp.get_table_names()
            assert "half_applied" not in {c["name"] for c in insp.get_columns("ab_user")}
        assert _tables(broken) == rows_before

        result = broken.test_cli_runner().invoke(args=["boxset", "upgrade"])
        assert result.exit_code == 1
        assert "migration failed and was rolled back" in result.output
        with pytest.raises(database.SchemaOutOfDate, match="ffffbad00001"):
            database.ensure_schema_current(broken)
        result = broken.test_cli_runner().invoke(args=["boxset", "check-schema"])
        assert result.exit_code == 1


def test_init_is_idempotent(make_app):
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url)
        database.upgrade_database(app)
        runner = app.test_cli_runner()
        first = runner.invoke(args=["boxset", "init"])
        second = runner.invoke(args=["boxset", "init"])
        assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
        assert first.output == second.output
        assert "Admin (" in first.output


def test_init_refuses_an_unmigrated_database(make_app):
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url)
        result = app.test_cli_runner().invoke(args=["boxset", "init"])
        assert result.exit_code == 1
        assert "boxset upgrade" in result.output
