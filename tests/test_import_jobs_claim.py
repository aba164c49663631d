"""Import jobs and their workers: a job is claimed by one worker only (the queued → running
step is one conditional UPDATE), and a slow but healthy job keeps its heartbeat fresh, so the
stall check never takes it for a dead one. The stall check and a worker never overwrite each
other: the stall check fails a job only if its heartbeat is still old when it writes, and a
worker that lost its job (failed by the stall check, or claimed again) stops writing to it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask, g
from sqlalchemy import delete, event, func, select, text, update

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import utcnow
from app.models.imports import SyncJob, SyncJobRow
from app.models.media import Media
from app.services import flags, imports, integrations, tenancy
from app.services.context import NO_REQUEST
from tests.concurrent_imports import Committed, committed_home
from tests.conftest import backend
from tests.factories import household, join


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


def _run_watching_heartbeat(app: Flask, job_id: int) -> int:
    """Run the job on a worker thread; meanwhile read its committed heartbeat and progress as
    the stall check does. Returns the most heartbeats seen while the progress stood still
    (within one batch): timing-independent, a slower machine only makes the batch longer."""
    errors: list[BaseException] = []
    worker = _worker(app, job_id, errors)
    worker.start()
    beats: dict[int, set] = {}
    while worker.is_alive():
        with app.app_context():
            job = db.session.get(SyncJob, job_id)
            if job.status == "running" and job.heartbeat_at is not None:
                beats.setdefault(job.progress_done, set()).add(job.heartbeat_at)
            db.session.remove()
        time.sleep(0.05)
    worker.join()
    assert not errors, errors
    with app.app_context():
        job = db.session.get(SyncJob, job_id)
        assert job.status == "succeeded", job.error
        db.session.remove()
    return max((len(seen) for seen in beats.values()), default=0)


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
        beats = _run_watching_heartbeat(home.app, job_id)
        assert time.monotonic() - started > 2 * stale.total_seconds()
        assert beats >= 3, beats  # the claim's, then fresh ones while the batch is enriched
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
        beats = _run_watching_heartbeat(home.app, job_id)
        elapsed = time.monotonic() - started
        assert elapsed > 2 * stale.total_seconds()  # else this proves nothing
        assert beats >= 3, (beats, elapsed)  # committed while the batch's rows are applied
        with home.app.app_context():
            assert db.session.get(SyncJob, job_id).summary["created"] == 1000
            assert _imported(job_id) == (1000, 1000)
            db.session.remove()


# --- the stall check and a worker never overwrite each other ---------------------------------

STOPPED = "The worker stopped: no progress for 1 min. Run it again to resume."


def _set(app: Flask, job_id: int, **values) -> None:
    """Another party's committed write to the job: the stall check, a retry, another worker."""
    with app.app_context():
        g.writes_database = True
        db.session.execute(update(SyncJob).where(SyncJob.id == job_id).values(**values))
        db.session.commit()
        db.session.remove()


def _job(app: Flask, job_id: int) -> SyncJob:
    with app.app_context():
        job = db.session.get(SyncJob, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


def _wait_for(condition: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def _someone_waits_for_a_lock(app: Flask) -> bool:
    """PostgreSQL: a session of this database is waiting for a lock (read afresh each time)."""
    with app.app_context(), db.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


@contextmanager
def _import_log() -> Iterator[list[str]]:
    """Messages of `boxset.imports` (it does not propagate to the root logger in the app)."""
    messages: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("boxset.imports")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _set_up_tmdb(home: Committed, fake_tmdb) -> None:
    from tests.fakes import tmdb as fake_tmdb_data

    with home.app.app_context():
        scope = tenancy.resolve_scope(db.session.get(BoxsetUser, home.user_id))
        settings = {"tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": fake_tmdb_data.API_KEY}
        integrations.update_settings(scope, settings, NO_REQUEST)
        db.session.remove()


@pytest.mark.no_db_transaction
def test_the_stall_check_leaves_a_job_whose_heartbeat_came_after_its_look_up(make_app):
    with committed_home(make_app) as home:
        with home.app.app_context():
            jobs = [_queue(home.user_id, home.space_id, FILMS) for _ in range(2)]
            assert all(imports.claim_job(job_id) for job_id in jobs)
            # Both workers look dead: no heartbeat for half an hour.
            db.session.execute(
                update(SyncJob)
                .where(SyncJob.id.in_(jobs))
                .values(heartbeat_at=utcnow() - timedelta(minutes=30))
            )
            db.session.commit()
            db.session.remove()
        alive: list[int] = []

        def a_worker_reports(_session) -> None:
            """After the stall check wrote its first job (it looked both up before), the other
            job's worker writes a heartbeat: it was only slow."""
            if alive:
                return
            with db.engine.begin() as connection:
                job_id = connection.scalar(
                    select(SyncJob.id).where(SyncJob.id.in_(jobs), SyncJob.status == "running")
                )
                connection.execute(
                    update(SyncJob).where(SyncJob.id == job_id).values(heartbeat_at=utcnow())
                )
            alive.append(job_id)

        with _import_log() as messages, home.app.app_context():
            g.writes_database = True  # as the periodic task runs
            event.listen(db.session(), "after_commit", a_worker_reports)
            assert imports.fail_stalled_jobs(timedelta(minutes=10)) == 1
            db.session.remove()
        (dead,) = set(jobs) - set(alive)
        assert (_job(home.app, alive[0]).status, _job(home.app, alive[0]).error) == (
            "running",
            None,
        )
        assert (_job(home.app, dead).status, "worker stopped" in _job(home.app, dead).error) == (
            "failed", True,
        )  # fmt: skip
        assert any(f"import job {dead} failed" in m for m in messages)
        assert not any(f"import job {alive[0]} failed" in m for m in messages)


@pytest.mark.no_db_transaction
@pytest.mark.skipif(backend() != "postgresql", reason="row locks: SQLite has one writer")
def test_the_stall_check_does_not_overwrite_a_heartbeat_committed_while_it_waits(make_app):
    with committed_home(make_app) as home:
        with home.app.app_context():
            job_id = _queue(home.user_id, home.space_id, FILMS)
            assert imports.claim_job(job_id)
            db.session.execute(
                update(SyncJob)
                .where(SyncJob.id == job_id)
                .values(heartbeat_at=utcnow() - timedelta(minutes=30))
            )
            db.session.commit()
            db.session.remove()
        failed: list[int] = []
        errors: list[BaseException] = []

        def stall_check() -> None:
            try:
                with home.app.app_context():
                    g.writes_database = True
                    failed.append(imports.fail_stalled_jobs(timedelta(minutes=10)))
                    db.session.remove()
            except BaseException as exc:
                errors.append(exc)

        checker = threading.Thread(target=stall_check)
        with home.app.app_context(), db.engine.connect() as worker:
            # The worker writes its heartbeat; it is not committed when the stall check looks
            # the job up (so it finds it stale), and is when the stall check gets to write.
            worker.execute(
                update(SyncJob).where(SyncJob.id == job_id).values(heartbeat_at=utcnow())
            )
            checker.start()
            _wait_for(lambda: _someone_waits_for_a_lock(home.app), "the stall check to wait")
            worker.commit()
        checker.join(10)
        assert not errors, errors
        assert failed == [0]
        job = _job(home.app, job_id)
        assert (job.status, job.error, job.finished_at) == ("running", None, None)


@pytest.mark.no_db_transaction
def test_a_worker_whose_job_was_failed_stops_and_a_retry_resumes_after_its_rows(
    make_app, fake_tmdb
):
    # 500 rows the schema refuses (no TMDB look-up): the first batch commits at once. Then 8
    # rows, each a slow TMDB search, read while the stall check fails the job.
    refused = [f"Bad {i},spaceship,2000\n" for i in range(500)]
    films = [f"Zzqx Unknown Film {i},movie,2001\n" for i in range(8)]
    data = ("title,media_type,year\n" + "".join(refused + films)).encode()
    stale = timedelta(seconds=0.8)  # heartbeats every 0.2 s
    with committed_home(make_app, IMPORT_STALE_MINUTES=stale.total_seconds() / 60) as home:
        _set_up_tmdb(home, fake_tmdb)
        with home.app.app_context():
            job_id = _queue(home.user_id, home.space_id, data, {"enrich": True})
            db.session.remove()
        fake_tmdb.delay = 0.2
        errors: list[BaseException] = []
        with _import_log() as messages:
            worker = _worker(home.app, job_id, errors)
            worker.start()
            # The first search is for row 502: the first batch (rows 2-501) is committed.
            _wait_for(lambda: fake_tmdb.calls("/3/search"), "the first TMDB search")
            assert _job(home.app, job_id).progress_done == 500
            # As the stall check leaves it (say the worker's host was paused for a while).
            _set(home.app, job_id, status="failed", error=STOPPED, finished_at=utcnow())
            worker.join(10)
        assert not errors, errors
        searched = len(fake_tmdb.calls("/3/search"))
        assert searched < 5  # it stopped at its next heartbeat, not after all 8 rows
        job = _job(home.app, job_id)
        assert (job.status, job.error, job.attempts, job.progress_done) == (
            "failed", STOPPED, 1, 500,
        )  # fmt: skip
        with home.app.app_context():
            assert _imported(job_id) == (500, 0)  # its committed batch stays; nothing since
            db.session.remove()

        # Run again (as retry_job leaves it): the new worker resumes after the committed rows.
        fake_tmdb.delay = 0.0
        _set(home.app, job_id, status="queued", error=None, finished_at=None)
        with home.app.app_context():
            g.writes_database = True
            job = imports.run_job(job_id)
            assert (job.status, job.attempts, job.error) == ("succeeded", 2, None)
            assert job.summary == {"total": 508, "created": 8, "updated": 0, "skipped": 0,
                                   "failed": 500}  # fmt: skip
            assert _imported(job_id) == (508, 8)
            db.session.remove()
        assert len(fake_tmdb.calls("/3/search")) == searched + 8  # rows 502-509 only
        assert any(f"import job {job_id}: this worker stopped" in m for m in messages), messages


@pytest.mark.no_db_transaction
def test_a_worker_whose_job_was_claimed_again_stops_and_leaves_it_to_the_new_owner(
    make_app, fake_tmdb
):
    films = _csv([(f"Zzqx Unknown Film {i}", 2001) for i in range(8)])
    stale = timedelta(seconds=0.8)  # heartbeats every 0.2 s
    with committed_home(make_app, IMPORT_STALE_MINUTES=stale.total_seconds() / 60) as home:
        _set_up_tmdb(home, fake_tmdb)
        with home.app.app_context():
            job_id = _queue(home.user_id, home.space_id, films, {"enrich": True})
            db.session.remove()
        fake_tmdb.delay = 0.2
        errors: list[BaseException] = []
        with _import_log() as messages:
            worker = _worker(home.app, job_id, errors)
            worker.start()
            _wait_for(lambda: fake_tmdb.calls("/3/search"), "the first TMDB search")
            # The stall check failed it, a retry queued it and another worker claimed it: the
            # job is running again, as attempt 2, with that worker's heartbeat.
            beat = utcnow()
            _set(home.app, job_id, status="running", attempts=2, heartbeat_at=beat)
            worker.join(10)
        assert not errors, errors
        assert len(fake_tmdb.calls("/3/search")) < 5  # stopped at its next heartbeat
        job = _job(home.app, job_id)
        # Left as the new owner has it: no heartbeat, progress or end written over it.
        assert (job.status, job.attempts, job.heartbeat_at, job.finished_at) == (
            "running", 2, beat, None,
        )  # fmt: skip
        assert job.progress_done == 0 and job.summary is None
        with home.app.app_context():
            assert _imported(job_id) == (0, 0)
            db.session.remove()
        assert any(f"import job {job_id}: this worker stopped" in m for m in messages), messages


@pytest.mark.no_db_transaction
@pytest.mark.skipif(backend() != "postgresql", reason="SQLite: one writer, no lock to wait on")
def test_a_batch_whose_job_was_failed_meanwhile_is_rolled_back(make_app):
    films = _csv([(f"Film {i}", 1950 + i % 60) for i in range(200)])
    with committed_home(make_app) as home:
        with home.app.app_context():
            job_id = _queue(home.user_id, home.space_id, films)
            db.session.remove()
        errors: list[BaseException] = []
        with _import_log() as messages, home.app.app_context():
            with db.engine.connect() as blocker:
                # Items cannot be inserted for now: the worker's batch waits, mid-transaction.
                blocker.execute(text("LOCK TABLE media IN SHARE MODE"))
                worker = _worker(home.app, job_id, errors)
                worker.start()
                _wait_for(lambda: _someone_waits_for_a_lock(home.app), "the batch to wait")
                assert _job(home.app, job_id).status == "running"
                # Meanwhile the stall check fails the job (the worker looked dead to it).
                _set(home.app, job_id, status="failed", error=STOPPED, finished_at=utcnow())
                blocker.rollback()
            worker.join(10)
        assert not errors, errors
        job = _job(home.app, job_id)
        assert (job.status, job.error, job.progress_done, job.summary) == (
            "failed", STOPPED, 0, None,
        )  # fmt: skip
        with home.app.app_context():
            assert _imported(job_id) == (0, 0)  # the batch was rolled back, items and all
            db.session.remove()
        assert any(f"import job {job_id}: this worker stopped" in m for m in messages), messages


# --- the worker checks the creator's right to run the import -----------------------------------


@pytest.mark.parametrize("change", ["demoted", "removed", "archived", "flag_off"])
def test_a_queued_job_whose_creator_may_no_longer_start_it_fails_without_importing(app, change):
    from app.models.flags import FeatureFlag
    from app.models.tenancy import Library, SpaceMembership

    home = household(app)
    member = join(app, home, "mo@example.test", "member")
    with app.app_context():
        job_id = _queue(member.user_id, home.space_id, FILMS)
        where = (SpaceMembership.user_id == member.user_id) & (
            SpaceMembership.space_id == home.space_id
        )
        if change == "demoted":  # after queueing, before the worker takes it
            db.session.execute(update(SpaceMembership).where(where).values(role="viewer"))
        elif change == "removed":
            db.session.execute(delete(SpaceMembership).where(where))
        elif change == "archived":
            db.session.get(Library, home.library_id).archived_at = utcnow()
        else:
            db.session.get(FeatureFlag, "import_csv_enabled").enabled = False
        db.session.commit()
        flags.invalidate_cache()
        job = imports.run_job(job_id)
        assert job.status == "failed" and job.error, job.error
        assert _imported(job_id) == (0, 0)
        flags.invalidate_cache()
