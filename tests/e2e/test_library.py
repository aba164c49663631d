"""Browsing a library in the browser: posters, infinite loading, search, type and list view."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.services import media, tenancy
from app.services.context import NO_REQUEST
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]


def _fill_library(app) -> int:
    with app.app_context():
        mia = db.session.scalar(db.select(BoxsetUser).where(BoxsetUser.username == "mia"))
        space, library = tenancy.create_space_for(mia, "Home", info=NO_REQUEST)
        db.session.commit()
        scope = tenancy.resolve_scope(mia, space_id=space.id)
        for i in range(70):
            media.create_media(scope, {"title": f"Film {i:02d}", "year": 1950 + i}, NO_REQUEST)
        media.create_media(
            scope, {"title": "Twin Peaks", "media_type": "tv_series", "year": 1990}, NO_REQUEST
        )
        return library.id


def test_a_member_browses_a_library(live_app, browser_page):
    library_id = _fill_library(live_app.app)
    page = browser_page
    page.goto(f"{live_app.url}/login/")
    page.fill("input[name=username]", "mia@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("h1")

    page.goto(f"{live_app.url}/libraries/{library_id}")
    page.wait_for_selector("#browse-count:text-is('71 items')")
    assert page.locator(".boxset-card").count() == 60
    page.mouse.wheel(0, 20000)  # infinite loading brings the rest
    page.wait_for_selector(".boxset-card >> nth=70")
    assert page.locator(".boxset-card").count() == 71

    page.select_option("#browse-form select[name=media_type]", "tv")
    page.wait_for_selector(".boxset-card:has-text('Film 00')", state="detached")
    page.wait_for_selector("#browse-count:text-is('1 items')")
    assert page.locator(".boxset-card").all_inner_texts()[0].startswith("Twin Peaks")

    page.select_option("#browse-form select[name=media_type]", "")
    page.fill("#browse-form input[name=search]", "film 07")
    page.press("#browse-form input[name=search]", "Enter")
    page.wait_for_selector(".boxset-card:has-text('Twin Peaks')", state="detached")
    page.wait_for_selector(".boxset-card:has-text('Film 07')")
    page.wait_for_selector("#browse-count:text-is('1 items')")
    assert page.locator(".boxset-card").count() == 1

    page.click("#nav-library > a")  # the navigation offers Movies, TV and Other per library
    page.click("#nav-library a.boxset-library-link:text-is('TV')")
    page.wait_for_selector(".boxset-card:has-text('Twin Peaks')")
    page.wait_for_selector("#browse-count:text-is('1 items')")
    assert page.input_value("#browse-form select[name=media_type]") == "tv"

    page.click("[data-view=list]")
    page.reload()
    page.wait_for_selector("#browse-count")
    assert page.get_attribute("#browse-items", "data-view") == "list"
    assert page.console_errors == [], page.console_errors
