"""Shared fixtures: one migrated database per run, a rolled-back transaction per test.

The database is `TEST_DATABASE_URL` (the runner sets a throwaway PostgreSQL database, then a
SQLite file); without it, a SQLite file in a temporary directory. Requests in a test each get
their own app context (pytest-flask's shared request context is switched off), so nothing a
request leaves in `g` leaks into the next one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_RUN_DIR = Path(tempfile.mkdtemp(prefix="boxset-tests-"))
os.environ.setdefault("DATA_DIR", str(_RUN_DIR / "data"))
for _var in ("APP_ENV", "REDIS_URL", "DATABASE_URL", "SECRET_KEY", "LOG_FORMAT"):
    os.environ.pop(_var, None)

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.jobs import bind_huey  # noqa: E402
from app.services.database import upgrade_database  # noqa: E402
from config import TestConfig  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_RUN_DIR / 'test.db'}"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery"
SECRET = secrets.token_urlsafe(48)

# Local fakes of TMDB, UPCitemdb/barcodelookup, OCR.space and Plex (tests/fakes).
pytest_plugins = ["tests.fakes.pytest_plugin"]


def require_service(name: str, reachable: bool) -> None:
    """Skip locally when a service is missing; under CI=true that is a failure."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{name} is not reachable and CI=true: the suite needs it", pytrace=False)
    pytest.skip(f"{name} is not reachable")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def backend() -> str:
    return "postgresql" if TEST_DATABASE_URL.startswith("postgresql") else "sqlite"


def base_overrides(**extra: Any) -> dict[str, Any]:
    return {
        **TestConfig.as_dict(),
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "SECRET_KEY": SECRET,
        **extra,
    }


@pytest.fixture(scope="session")
def app():
    application = create_app(base_overrides())
    upgrade_database(application)
    with application.app_context():
        sm = application.appbuilder.sm
        sm.bootstrap()
        for username, role in (("admin", "Admin"), ("member", "Member")):
            if sm.find_user(username=username) is None:
                sm.add_user(
                    username=username,
                    first_name=username.title(),
                    last_name="Tester",
                    email=f"{username}@example.test",
                    role=sm.find_role(role),
                    password=PASSWORD,
                )
        db.session.remove()
    yield application


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replace pytest-flask's shared request context: every request gets its own."""
    yield


@pytest.fixture(autouse=True)
def _db_transaction(request, app) -> Iterator[None]:
    """Run each test inside an outer transaction that is rolled back afterwards."""
    if "no_db_transaction" in request.keywords:
        yield
        return
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        connection.name = engine.name  # FAB asks session.get_bind().name
        outer = connection.begin()
        engines[None] = connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine
        bind_huey(app)


def pytest_configure(config):
    config.addinivalue_line("markers", "no_db_transaction: the test manages its own database")


@pytest.fixture
def make_app(app):
    """Build an extra app with other settings; the session app's queue binding is restored."""
    created = []

    def factory(**overrides: Any):
        extra = create_app(base_overrides(**overrides))
        created.append(extra)
        return extra

    yield factory
    bind_huey(app)


def api_key_headers(app, username: str = "admin") -> dict[str, str]:
    """An API key for the user, as scripts authenticate (`Authorization: Bearer bxs_…`)."""
    with app.app_context():
        sm = app.appbuilder.sm
        created = sm.create_api_key(sm.find_user(username=username), f"test key for {username}")
        db.session.commit()
    return {"Authorization": f"Bearer {created['key']}"}


def json_login(client, email: str = "admin@example.test", password: str = PASSWORD):
    """Sign in through POST /api/auth/login; returns the CSRF header for later writes."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    token = client.get("/api/auth/csrf-token").json["csrf_token"]
    return {"X-CSRF-Token": token}


def form_login(client, username: str = "admin", password: str = PASSWORD):
    """Sign in through the real login form (with its CSRF token)."""
    page = client.get("/login/")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    return client.post(
        "/login/",
        data={"username": username, "password": password, "csrf_token": token},
    )


@pytest.fixture
def admin_headers(app):
    return api_key_headers(app)


@contextmanager
def fresh_database() -> Iterator[str]:
    """An empty database of the suite's backend, dropped afterwards."""
    if backend() == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="boxset-fresh-"))
        try:
            yield f"sqlite:///{folder / 'fresh.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg

    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"boxset_fresh_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        from app.extensions import db as _db

        for engine_map in list(getattr(_db, "_app_engines", {}).values()):
            for engine in engine_map.values():
                if engine.url.database == name:
                    engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def serve(application) -> Iterator[str]:
    """Serve the app on a free local port in a thread (a real threaded HTTP server)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
