"""Near-duplicates in a browser: merge a group, undo it there, merge another and undo it from
the activity log, and the empty state."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.services import media, tenancy
from app.services.context import NO_REQUEST

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]


def test_duplicates_page(empty_live_app, new_page):
    base = empty_live_app.url
    page = new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{base}/register")
    page.fill("#reg-name", "Ada Admin")
    page.fill("#reg-email", "ada@example.test")
    page.fill("#reg-password", "first-admin-password")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Welcome')")
    app = empty_live_app.app
    with app.app_context():
        user = db.session.scalar(db.select(BoxsetUser))
        scope = tenancy.resolve_scope(user)
        ids = [
            media.create_media(scope, fields, NO_REQUEST).id
            for fields in (
                {"title": "The Matrix", "year": 1999},
                {"title": "Matrix", "year": 1999},
                {"title": "Alien", "upc": "012345678905"},
                {"title": "Alien DC", "upc": "012345678905"},
            )
        ]
    page.click("#nav-library > a")
    page.click("#nav-duplicates")
    page.wait_for_selector(".boxset-duplicate-group")
    assert page.locator(".boxset-duplicate-group").count() == 2
    group = page.locator(".boxset-duplicate-group[data-reason=title]")
    group.locator(f"input[value='{ids[1]}']").check()
    group.locator("button:has-text('Merge')").click()
    page.wait_for_selector("#merge-result:not(.hidden)")
    assert "Matrix" in page.inner_text("#merge-result-text")
    expect(page.locator(".boxset-duplicate-group")).to_have_count(1)
    page.click("#merge-undo")
    page.wait_for_selector("#merge-result-text:has-text('undone')")
    expect(page.locator(".boxset-duplicate-group")).to_have_count(2)
    # merge the UPC group, then undo from the activity page
    page.locator(".boxset-duplicate-group[data-reason=upc] button:has-text('Merge')").click()
    expect(page.locator(".boxset-duplicate-group")).to_have_count(1)
    page.goto(f"{base}/activity")
    page.wait_for_selector("[data-undo-merge]")
    assert page.locator("[data-undo-merge]").count() == 1  # the undone one has no button
    page.click("[data-undo-merge]")
    page.wait_for_selector("#activity-body td:has-text('media.merge.undo') >> nth=1")
    assert page.locator("[data-undo-merge]").count() == 0
    page.goto(f"{base}/duplicates")
    expect(page.locator(".boxset-duplicate-group")).to_have_count(2)
    # The empty state, once nothing looks alike any more.
    with app.app_context():
        user = db.session.scalar(db.select(BoxsetUser))
        scope = tenancy.resolve_scope(user)
        for i in (ids[1], ids[3]):
            media.delete_media(scope, i, NO_REQUEST)
    page.goto(f"{base}/duplicates")
    page.wait_for_selector("#duplicates-empty:not(.hidden)")
    assert page.console_errors == [], page.console_errors
