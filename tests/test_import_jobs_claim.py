"""Import jobs and their workers: a job is claimed by one worker only (the queued → running
step is one conditional UPDATE), and a slow but healthy job keeps its heartbeat fresh, so the
stall check never takes it for a dead one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask, g
from sqlalchemy import func, select

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import utcnow
from app.models.imports import SyncJob, SyncJobRow
from app.models.media import Media
from app.services import imports, integrations, tenancy
from app.services.context import NO_REQUEST
from app.services.database import upgrade_database
from tests.conftest import backend, fresh_database
from tests.factories import household


def _csv(titles: list[str]) -> bytes:
    return ("title,media_type,year\n" + "".join(f"{t},movie,{y}\n" for t, y in titles)).encode()


FILMS = _csv([("Heat", 1995), ("Alien", 1979), ("Brazil", 1985)])


def _queue(user_id: int, space_id: int, data: bytes, options: dict | None = None) -> int:
    user = db.session.get(BoxsetUser, user_id)
    scope = tenancy.resolve_scope(user, space_id=space_id)
    return imports.start_job(
        scope, "csv_generic", data=data, file_name="films.csv", options=options or {},
        library_id=None, info=NO_REQUEST,
    )  # fmt: skip


def _imported(job_id: int) -> tuple[int, int]:
    """(rows recorded for the job, items in its space)."""
    job = db.session.get(SyncJob, job_id)
    rows = db.session.scalar(select(func.count()).where(SyncJobRow.job_id == job_id))
    items = db.session.scalar(select(func.count()).where(Media.space_id == job.space_id))
    return rows, items


# --- claiming, in the test's transaction -----------------------------------------------------


def test_a_job_is_claimed_once_and_a_second_claim_does_nothing(app):
    home = household(app)
    with app.app_context():
        job_id = _queue(home.owner.user_id, home.space_id, FILMS)
        assert imports.claim_job(job_id) is True
        assert imports.claim_job(job_id) is False  # a second worker, or a retry racing it
        job = imports.run_job(job_id)  # nor does running it: the first worker has it
        assert (job.status, job.attempts) == ("running", 1)
        assert _imported(job_id) == (0, 0)


@pytest.mark.parametrize("status", ["running", "failed", "succeeded"])
def test_only_a_queued_job_is_run(app, status):
    home = household(app)
    with app.app_context():
        job_id = _queue(home.owner.user_id, home.space_id, FILMS)
        job = db.session.get(SyncJob, job_id)
        # As another worker leaves it: running (alive), failed (retry queues it first), done.
        job.status, job.attempts, job.heartbeat_at = status, 1, utcnow()
        db.session.commit()
        job = imports.run_job(job_id)
        assert (job.status, job.attempts) == (status, 1)
        assert _imported(job_id) == (0, 0)


def test_a_job_queued_again_keeps_its_first_start_and_counts_attempts(app):
    home = household(app)
    with app.app_context():
        job_id = _queue(home.owner.user_id, home.space_id, FILMS)
        assert imports.claim_job(job_id)
        job = db.session.get(SyncJob, job_id)
        started = job.started_at
        job.status = "failed"  # its worker died; the stall check failed it
        db.session.commit()
        assert imports.claim_job(job_id) is False  # failed: only retry_job queues it again
        db.session.get(SyncJob, job_id).status = "queued"  # as retry_job leaves it
        db.session.commit()
        job = imports.run_job(job_id)
        assert (job.status, job.attempts, job.started_at) == ("succeeded", 2, started)
        assert job.heartbeat_at >= started and job.error is None
        assert _imported(job_id) == (3, 3)


# --- on a committed database, with threads ---------------------------------------------------


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


def _worker(app: Flask, job_id: int, errors: list, barrier: threading.Barrier | None = None):
    def work() -> None:
        try:
            with app.app_context():
                g.writes_database = True  # as huey's tasks run
                if barrier is not None:
                    barrier.wait()
                imports.run_job(job_id)
        except BaseException as exc:
            errors.append(exc)

    return threading.Thread(target=work)


@pytest.mark.no_db_transaction
def test_two_workers_given_one_job_at_the_same_moment_run_it_once(make_app):
    films = _csv([(f"Film {i}", 1950 + i % 60) for i in range(200)])
    with committed_home(make_app) as home:
        with home.app.app_context():
            job_id = _queue(home.user_id, home.space_id, films)
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)
        workers = [_worker(home.app, job_id, errors, barrier) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert not errors, errors
        with home.app.app_context():
            job = db.session.get(SyncJob, job_id)
            assert (job.status, job.attempts, job.error) == ("succeeded", 1, None)
            assert job.summary == {"total": 200, "created": 200, "updated": 0, "skipped": 0,
                                   "failed": 0}  # fmt: skip
            assert _imported(job_id) == (200, 200)
            db.session.remove()


def _run_watching_heartbeat(app: Flask, job_id: int) -> timedelta:
    """Run the job on a worker thread; meanwhile read its committed heartbeat as the stall
    check does. Returns the longest the heartbeat was behind the clock while it ran."""
    errors: list[BaseException] = []
    worker = _worker(app, job_id, errors)
    worker.start()
    worst = timedelta(0)
    while worker.is_alive():
        with app.app_context():
            job = db.session.get(SyncJob, job_id)
            if job.status == "running" and job.heartbeat_at is not None:
                worst = max(worst, utcnow() - job.heartbeat_at)
            db.session.remove()
        time.sleep(0.05)
    worker.join()
    assert not errors, errors
    with app.app_context():
        job = db.session.get(SyncJob, job_id)
        assert job.status == "succeeded", job.error
        db.session.remove()
    return worst


@pytest.mark.no_db_transaction
def test_a_slow_enrichment_keeps_the_heartbeat_fresh(make_app, fake_tmdb):
    from tests.fakes import tmdb as fake_tmdb_data

    stale = timedelta(seconds=1.8)  # the stall check's limit; heartbeats come every 0.45 s
    titles = [(f"Zzqx Unknown Film {i}", 2001) for i in range(24)]
    with committed_home(make_app, IMPORT_STALE_MINUTES=stale.total_seconds() / 60) as home:
        with home.app.app_context():
            scope = tenancy.resolve_scope(db.session.get(BoxsetUser, home.user_id))
            settings = {"tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": fake_tmdb_data.API_KEY}
            integrations.update_settings(scope, settings, NO_REQUEST)
            job_id = _queue(home.user_id, home.space_id, _csv(titles), {"enrich": True})
            db.session.remove()
        fake_tmdb.delay = 0.15  # 24 rows, one search each: 3.6 s before the batch commits
        started = time.monotonic()
        worst = _run_watching_heartbeat(home.app, job_id)
        assert time.monotonic() - started > 2 * stale.total_seconds()
        assert worst < stale, worst
        assert len(fake_tmdb.calls("/3/search")) == 24


@pytest.mark.no_db_transaction
@pytest.mark.skipif(backend() != "postgresql", reason="SQLite: one writer; no beat in a batch")
def test_a_slow_row_by_row_batch_keeps_the_heartbeat_fresh(make_app):
    # Titles repeat (other years): in each batch of 500, all but 25 rows go row by row.
    titles = [(f"Film {i % 25}", 1900 + i // 25) for i in range(1000)]
    stale = timedelta(seconds=0.6)
    with committed_home(make_app, IMPORT_STALE_MINUTES=stale.total_seconds() / 60) as home:
        with home.app.app_context():
            job_id = _queue(home.user_id, home.space_id, _csv(titles))
            db.session.remove()
        started = time.monotonic()
        worst = _run_watching_heartbeat(home.app, job_id)
        elapsed = time.monotonic() - started
        assert elapsed > 2 * stale.total_seconds()  # else this proves nothing
        assert worst < stale, (worst, elapsed)
        with home.app.app_context():
            assert db.session.get(SyncJob, job_id).summary["created"] == 1000
            assert _imported(job_id) == (1000, 1000)
            db.session.remove()
