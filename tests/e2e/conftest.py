"""Browser tests: a real server on a committed database, driven by Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.services.database import upgrade_database
from tests.conftest import PASSWORD, fresh_database, require_service
from tests.conftest import serve as _serve

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    app: object


@pytest.fixture
def live_app(make_app) -> Iterator[LiveServer]:
    """A served app with one member, Mia (mia@example.test)."""
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url, SERVER_NAME=None)
        upgrade_database(app)
        with app.app_context():
            sm = app.appbuilder.sm
            sm.bootstrap()
            sm.add_user(
                "mia", "Mia", "Member", "mia@example.test", sm.find_role("Member"), PASSWORD
            )
        with _serve(app) as base:
            yield LiveServer(base, app)


@pytest.fixture
def empty_live_app(make_app) -> Iterator[LiveServer]:
    """A served app on an empty database: the first registration creates the admin."""
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url, SERVER_NAME=None)
        upgrade_database(app)
        with app.app_context():
            app.appbuilder.sm.bootstrap()
        with _serve(app) as base:
            yield LiveServer(base, app)


def _watch(page) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors  # type: ignore[attr-defined]


@pytest.fixture
def browser():
    require_service("Chromium", os.path.exists(CHROMIUM))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def new_page(browser):
    """Pages in separate browser contexts (separate cookie jars), console errors recorded."""
    contexts = []

    def factory():
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        _watch(page)
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page):
    return new_page()
