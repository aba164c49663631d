"""Background jobs on huey.

Tasks are thin: they take ids, run inside an app context and call one service. The queue is
Redis when REDIS_URL is set (separate `flask boxset worker` processes) and a SQLite file
otherwise, consumed by threads inside the web process (the embedded default).
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from huey.consumer import Consumer
from huey.storage import RedisStorage, SqliteStorage

from app.extensions import huey

log = logging.getLogger("boxset.jobs")
_app: Flask | None = None


def bind_huey(app: Flask) -> None:
    """Point the module-level huey at this app's queue storage."""
    global _app
    _app = app
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True
        return
    huey.immediate = False
    if app.config["HUEY_BACKEND"] == "redis":
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": app.config["REDIS_URL"]}
    else:
        path = app.config["HUEY_SQLITE_PATH"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": path}
    huey.storage = huey.create_storage()


def register_jobs() -> None:
    """Import every job module so its tasks are registered on huey."""
    from app.jobs import imports, maintenance  # noqa: F401


def get_app() -> Flask:
    if _app is None:  # a standalone consumer imported the tasks before creating the app
        from app import create_app

        return create_app()
    return _app


def app_task(**task_options: Any) -> Callable:
    """`huey.task` whose function runs inside the bound app's context."""

    def decorator(fn: Callable) -> Any:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with get_app().app_context():
                from flask import g

                g.writes_database = True  # SQLite: take the write lock up front
                return fn(*args, **kwargs)

        return huey.task(**task_options)(run)

    return decorator


def queue_health() -> str:
    """'ok' when the queue storage answers, else a short reason."""
    try:
        storage = huey.storage
        if isinstance(storage, RedisStorage):
            storage.conn.ping()
        else:
            storage.queue_size()
    except Exception as exc:  # any failure of the broker means degraded, not a crash
        log.warning("queue health check failed: %s", type(exc).__name__)
        return "unreachable"
    return "ok"


class ThreadConsumer(Consumer):
    """A consumer that can run in a non-main thread: it leaves signal handling to the server."""

    def _set_signal_handlers(self) -> None:
        pass


def start_in_process_consumer(app: Flask) -> ThreadConsumer | None:
    """Run huey's workers as threads of this process (embedded default only)."""
    if app.config.get("TESTING") or not app.config.get("HUEY_IN_PROCESS"):
        return None
    consumer = ThreadConsumer(
        huey,
        workers=1,  # one thread: SQLite serialises writes anyway
        worker_type="thread",
        periodic=True,
        check_worker_health=False,
    )
    consumer.start()
    atexit.register(lambda: consumer.stop(graceful=True))
    log.info("in-process job consumer started")
    return consumer


def run_consumer(app: Flask, workers: int) -> None:
    """Run a standalone consumer in the foreground (`flask boxset worker`)."""
    if huey.immediate:
        raise RuntimeError("the job queue is in immediate mode; nothing to consume")
    consumer = Consumer(huey, workers=workers, worker_type="thread", periodic=True)
    consumer.run()
