"""Periodic housekeeping: expired sessions are pruned every SESSION_CLEANUP_INTERVAL_MINUTES,
whether or not anyone signs in."""

from __future__ import annotations

import logging
import time

from huey import crontab
from huey.constants import EmptyData

from app.extensions import huey
from app.jobs import get_app

log = logging.getLogger("boxset.jobs")
LAST_PRUNE_KEY = "boxset:sessions:last-prune"


def prune_sessions_if_due(now: float | None = None) -> int | None:
    """Prune expired sessions when the configured interval has passed since the last run;
    returns how many were removed, or None when it was not due yet."""
    from app.services import sessions

    app = get_app()
    now = time.time() if now is None else now
    interval = app.config["SESSION_CLEANUP_INTERVAL_MINUTES"] * 60
    last = huey.storage.peek_data(LAST_PRUNE_KEY)
    if last is not EmptyData and now - float(last) < interval:
        return None
    with app.app_context():
        from flask import g

        g.writes_database = True
        removed = sessions.prune_expired()
    huey.storage.put_data(LAST_PRUNE_KEY, str(now).encode())
    if removed:
        log.info("pruned %s expired sessions", removed)
    return removed


@huey.periodic_task(crontab(minute="*"), name="boxset.prune_sessions")
def prune_sessions_job() -> int | None:
    return prune_sessions_if_due()
