"""The embedded SQLite database: foreign keys enforced, WAL for concurrent web and job threads."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services.database import upgrade_database
from tests.conftest import fresh_database

pytestmark = pytest.mark.no_db_transaction


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/boxset.db")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_dangling_foreign_key_is_refused(make_app):
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url)
        upgrade_database(app)
        with app.app_context():
            with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
                db.session.execute(
                    text("INSERT INTO ab_user_role (user_id, role_id) VALUES (424242, 424242)")
                )
                db.session.commit()
            db.session.rollback()
