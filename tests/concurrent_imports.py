"""Two imports of one file at the same moment, on a committed database (threads, real
transactions): what the concurrency tests of every import source share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, g
from sqlalchemy import func, select

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.imports import SyncJob, SyncJobRow
from app.models.media import Media
from app.services import imports, tenancy
from app.services.context import NO_REQUEST
from app.services.database import upgrade_database
from tests.conftest import fresh_database


@dataclass
class Committed:
    app: Flask
    user_id: int
    space_id: int


@contextmanager
def committed_home(make_app, **config) -> Iterator[Committed]:
    """A fresh, committed database with one household (real transactions, several threads)."""
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url, **config)
        upgrade_database(app)
        with app.app_context():
            sm = app.appbuilder.sm
            sm.bootstrap()
            user = sm.add_user(
                "olive", "Olive", "O", "olive@example.test", sm.find_role("Member"), "pw-12345678"
            )
            space, _library = tenancy.create_space_for(user, "Home", info=NO_REQUEST)
            db.session.commit()
            home = Committed(app, user.id, space.id)
            db.session.remove()
        try:
            yield home
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@contextmanager
def imported_twice_at_once(
    make_app, provider: str, data: bytes | None, *, options: dict | None = None, prepare=None
) -> Iterator[Flask]:
    """A fresh database with one household; two jobs importing `data` start together in two
    threads. Yields the app once both finished (and asserts they succeeded). `prepare(scope)`
    sets the household up first (integration settings, for instance)."""
    with committed_home(make_app) as home:
        app = home.app
        with app.app_context():
            scope = tenancy.resolve_scope(db.session.get(BoxsetUser, home.user_id))
            if prepare is not None:
                prepare(scope)
            jobs = [
                imports.start_job(scope, provider, data=data, file_name="same.file",
                                  options=dict(options or {}),
                                  library_id=None, info=NO_REQUEST)
                for _ in range(2)
            ]  # fmt: skip
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def work(job_id: int) -> None:
            try:
                with app.app_context():
                    g.writes_database = True
                    barrier.wait()
                    imports.run_job(job_id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(job_id,)) for job_id in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        with app.app_context():
            finished = [db.session.get(SyncJob, job_id) for job_id in jobs]
            assert [j.status for j in finished] == ["succeeded"] * 2, [j.error for j in finished]
            db.session.remove()
        yield app


def counts(app: Flask) -> tuple[int, int]:
    """(items, rows reported created) in the whole database."""
    with app.app_context():
        items = db.session.scalar(select(func.count()).select_from(Media))
        created = db.session.scalar(
            select(func.count()).select_from(SyncJobRow).where(SyncJobRow.status == "created")
        )
        db.session.remove()
    return items, created
