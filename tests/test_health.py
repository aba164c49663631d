"""GET /api/health: build metadata, database and queue state."""

from __future__ import annotations

import pytest

from config import read_version
from tests.conftest import TEST_REDIS_URL, port_open, require_service


def test_health_reports_ok_with_version_metadata(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json
    assert body == {
        "status": "ok",
        "version": read_version(),
        "git_sha": body["git_sha"],
        "build_date": body["build_date"],
        "database": "ok",
        "queue": "ok",
    }
    assert body["git_sha"] and body["build_date"]


def test_health_needs_no_sign_in_and_is_not_cached(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_build_metadata_comes_from_the_environment(make_app):
    app = make_app(APP_VERSION="9.8.7", GIT_SHA="abc1234", BUILD_DATE="2026-11-01T00:00:00Z")
    body = app.test_client().get("/api/health").json
    assert (body["version"], body["git_sha"], body["build_date"]) == (
        "9.8.7",
        "abc1234",
        "2026-11-01T00:00:00Z",
    )


def test_navigation_shows_version_and_sha(make_app):
    app = make_app(APP_VERSION="9.8.7", GIT_SHA="abc1234")
    page = app.test_client().get("/login/").get_data(as_text=True)
    assert "v9.8.7 (abc1234)" in page


def test_health_is_degraded_when_the_database_is_unreachable(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/boxset.db")
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["database"] == "unreachable"
    assert response.json["queue"] == "ok"


def test_health_is_degraded_when_postgres_is_down(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://boxset@127.0.0.1:9/boxset")
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert (response.json["status"], response.json["database"]) == ("degraded", "unreachable")


@pytest.mark.redis
def test_health_checks_the_redis_queue(make_app):
    require_service("Redis", port_open("127.0.0.1", 6379))
    app = make_app(HUEY_IMMEDIATE=False, HUEY_BACKEND="redis", REDIS_URL=TEST_REDIS_URL)
    response = app.test_client().get("/api/health")
    assert response.status_code == 200
    assert response.json["queue"] == "ok"


def test_health_is_degraded_when_redis_is_down(make_app):
    app = make_app(HUEY_IMMEDIATE=False, HUEY_BACKEND="redis", REDIS_URL="redis://127.0.0.1:9/0")
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert (response.json["status"], response.json["queue"]) == ("degraded", "unreachable")


def test_a_session_cookie_during_a_database_outage_still_gets_the_health_answer(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/boxset.db")
    client = app.test_client()
    client.set_cookie("boxset_session", "a-token-from-before-the-outage", domain="boxset.test")
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
