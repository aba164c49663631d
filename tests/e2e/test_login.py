"""A member signs in through the real login page and lands on the home page."""

from __future__ import annotations

import pytest

from config import read_version
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]


def test_member_signs_in_and_sees_the_home_page(live_app, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{live_app.url}/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "mia@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("h1")
    assert page.url.rstrip("/") == live_app.url
    assert page.inner_text("h1") == "Welcome, Mia"
    assert f"v{read_version()}" in page.inner_text(".boxset-version")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["boxset_session"]["httpOnly"] is True
    assert cookies["boxset_session"]["sameSite"] == "Strict"
    page.screenshot(path=str(tmp_path / "home.png"))
    assert page.console_errors == [], page.console_errors


def test_wrong_password_stays_on_the_login_page(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app.url}/login/")
    page.fill("input[name=username]", "mia@example.test")
    page.fill("input[name=password]", "not-the-password")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert "/login/" in page.url
    assert page.console_errors == [], page.console_errors


def test_swagger_ui_renders_under_the_content_security_policy(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app.url}/login/")
    page.fill("input[name=username]", "mia@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("h1")
    page.goto(f"{live_app.url}/swagger/v1")
    page.wait_for_selector(".opblock", timeout=15000)
    assert "/api/health" in page.content()
    assert page.console_errors == [], page.console_errors
