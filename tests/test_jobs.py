"""The job queue: tasks run inside the app context, on SQLite in-process and on Redis."""

from __future__ import annotations

import pytest
from flask import current_app

from app.extensions import huey
from app.jobs import ThreadConsumer, app_task, start_in_process_consumer
from tests.conftest import TEST_REDIS_URL, port_open, require_service

pytestmark = pytest.mark.no_db_transaction


@app_task()
def describe_app(label: str) -> str:
    return f"{label}:{current_app.config['HUEY_BACKEND']}"


def test_immediate_mode_in_tests_runs_tasks_synchronously(app):
    assert huey.immediate is True
    assert describe_app("now").get() == "now:sqlite"


def test_embedded_default_consumes_the_sqlite_queue_in_process(make_app, tmp_path):
    app = make_app(
        TESTING=False,
        HUEY_IMMEDIATE=False,
        HUEY_IN_PROCESS=True,
        HUEY_BACKEND="sqlite",
        HUEY_SQLITE_PATH=str(tmp_path / "queue.db"),
    )
    consumer = start_in_process_consumer(app)
    assert consumer is not None
    try:
        result = describe_app("queued")
        assert result.get(blocking=True, timeout=15) == "queued:sqlite"
        assert (tmp_path / "queue.db").exists()
    finally:
        consumer.stop(graceful=True)


def test_no_in_process_consumer_when_redis_is_configured(make_app):
    app = make_app(TESTING=False, HUEY_IMMEDIATE=False, HUEY_IN_PROCESS=False)
    assert start_in_process_consumer(app) is None


@pytest.mark.redis
def test_redis_queue_is_consumed_by_a_worker(make_app):
    require_service("Redis", port_open("127.0.0.1", 6379))
    make_app(HUEY_IMMEDIATE=False, HUEY_BACKEND="redis", REDIS_URL=TEST_REDIS_URL)
    huey.flush()
    consumer = ThreadConsumer(huey, workers=2, worker_type="thread", check_worker_health=False)
    consumer.start()
    try:
        results = [describe_app(f"job{i}") for i in range(3)]
        assert [r.get(blocking=True, timeout=15) for r in results] == [
            "job0:redis",
            "job1:redis",
            "job2:redis",
        ]
    finally:
        consumer.stop(graceful=True)
        huey.flush()
