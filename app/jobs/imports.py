"""Import jobs: a task that runs one job by id, and a periodic check that fails jobs whose
worker died (running them again resumes where they stopped)."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab

from app.extensions import huey
from app.jobs import app_task, get_app

log = logging.getLogger("boxset.jobs")


@app_task(name="boxset.run_import")
def run_import(job_id: int) -> str | None:
    from app.services import imports

    job = imports.run_job(job_id)
    return job.status if job is not None else None


def fail_stalled_imports() -> int:
    """Fail the running jobs whose heartbeat is older than IMPORT_STALE_MINUTES. Returns (and
    logs) only the jobs actually failed: one whose worker reported between the look-up and the
    write is left running."""
    from flask import g

    from app.services import imports

    app = get_app()
    with app.app_context():
        g.writes_database = True
        minutes = app.config["IMPORT_STALE_MINUTES"]
        failed = imports.fail_stalled_jobs(timedelta(minutes=minutes))
    if failed:
        log.warning("marked %s stalled import job(s) failed", failed)
    return failed


@huey.periodic_task(crontab(minute="*"), name="boxset.fail_stalled_imports")
def fail_stalled_imports_job() -> int:
    return fail_stalled_imports()
