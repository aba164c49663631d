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
    page.wait_for_selector("#browse-count:text-is('1 item')")
    assert page.locator(".boxset-card").all_inner_texts()[0].startswith("Twin Peaks")

    page.select_option("#browse-form select[name=media_type]", "")
    page.fill("#browse-form input[name=search]", "film 07")
    page.press("#browse-form input[name=search]", "Enter")
    page.wait_for_selector(".boxset-card:has-text('Twin Peaks')", state="detached")
    page.wait_for_selector(".boxset-card:has-text('Film 07')")
    page.wait_for_selector("#browse-count:text-is('1 item')")
    assert page.locator(".boxset-card").count() == 1

    page.click("#nav-library > a")  # the navigation offers Movies, TV and Other per library
    page.click("#nav-library a.boxset-library-link:text-is('TV')")
    page.wait_for_selector(".boxset-card:has-text('Twin Peaks')")
    page.wait_for_selector("#browse-count:text-is('1 item')")
    assert page.input_value("#browse-form select[name=media_type]") == "tv"

    page.click("[data-view=list]")
    page.reload()
    page.wait_for_selector("#browse-count")
    assert page.get_attribute("#browse-items", "data-view") == "list"
    assert page.console_errors == [], page.console_errors


def _png(path) -> str:
    from PIL import Image

    Image.new("RGB", (200, 300), (180, 40, 40)).save(path, "PNG")
    return str(path)


def test_a_member_adds_finds_edits_and_deletes_items(live_app, browser_page, tmp_path):
    library_id = _fill_library(live_app.app)
    page = browser_page
    page.goto(f"{live_app.url}/login/")
    page.fill("input[name=username]", "mia@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("h1")
    page.goto(f"{live_app.url}/libraries/{library_id}")
    page.wait_for_selector("#browse-count:text-is('71 items')")

    # Add a movie with a cover; the form shows no TV fields for a movie.
    page.click("#add-item")
    page.wait_for_selector("#item-dialog:not(.hidden)")
    assert not page.is_visible("#i-network")
    page.fill("#i-title", "12 Angry Men")
    page.select_option("#i-format", "Blu-ray")
    page.fill("#i-year", "1957")
    page.fill("#i-genres", "Drama, Crime")
    page.fill("#i-directors", "Sidney Lumet")
    page.fill("#i-cast", "Henry Fonda, Lee J. Cobb")
    page.set_input_files("#i-cover", _png(tmp_path / "cover.png"))
    page.wait_for_selector("#item-form [data-cover-state]:has-text('Cover ready')")
    page.click("#item-form [data-save]")
    page.wait_for_selector("#item-dialog", state="hidden")
    page.wait_for_selector("#media-drawer:not(.hidden) #drawer-title:text-is('12 Angry Men')")
    page.click("#media-drawer [data-close]")

    # Find it by filter: director and year range, in the poster grid.
    page.click("#toggle-filters")
    page.fill("#f-director", "lumet")
    page.fill("#f-year-min", "1950")
    page.press("#f-year-min", "Enter")
    page.wait_for_selector("#browse-count:text-is('1 item')")
    assert page.locator(".boxset-card").count() == 1
    assert page.locator("#filter-count").inner_text() == "2"
    card = page.locator(".boxset-card:has-text('12 Angry Men')")
    assert card.locator("img").get_attribute("src").startswith("/covers/")

    # The drawer shows every field, who added it and the cover.
    card.click()
    drawer = page.locator("#media-drawer")
    page.wait_for_selector("#media-drawer:not(.hidden) .boxset-facts")
    text = drawer.inner_text()
    for expected in ("Crime, Drama", "Sidney Lumet", "Henry Fonda, Lee J. Cobb", "Added by", "Mia"):
        assert expected in text, (expected, text)
    assert drawer.locator("img.boxset-drawer-cover").count() == 1

    # Edit it.
    page.click("#media-drawer [data-edit]")
    page.wait_for_selector("#item-dialog:not(.hidden)")
    assert page.input_value("#i-title") == "12 Angry Men"
    assert page.input_value("#i-directors") == "Sidney Lumet"
    page.fill("#i-user-rating", "9.5")
    page.fill("#i-location", "Shelf A")
    page.click("#item-form [data-save]")
    page.wait_for_selector("#item-dialog", state="hidden")
    page.wait_for_selector("#media-drawer dd:text-is('9.5 / 10')")
    assert "Shelf A" in drawer.inner_text()
    page.click("#media-drawer [data-close]")
    page.click("#clear-filters")
    page.wait_for_selector("#browse-count:text-is('72 items')")

    # A TV series with two seasons: the TV fields appear for TV.
    page.click("#add-item")
    page.select_option("#i-type", "tv_series")
    assert page.is_visible("#i-network")
    assert not page.is_visible("#i-episode-number")
    page.fill("#i-title", "The Wire")
    page.fill("#i-network", "HBO")
    page.click("#add-season")
    page.click("#add-season")
    rows = page.locator("#season-rows tr")
    assert rows.count() == 2
    rows.nth(0).locator("input[name=expected_episodes]").fill("13")
    rows.nth(0).locator("input[name=available_episodes]").fill("13")
    rows.nth(1).locator("input[name=expected_episodes]").fill("12")
    rows.nth(1).locator("input[name=available_episodes]").fill("6")
    page.click("#item-form [data-save]")
    page.wait_for_selector("#media-drawer:not(.hidden) #drawer-title:text-is('The Wire')")
    page.wait_for_selector("#media-drawer h3:text-is('Seasons')")
    seasons = drawer.locator("table tbody tr").all_inner_texts()
    assert [s.split("\t")[:4] for s in seasons] == [
        ["1", "13", "13", "yes"],
        ["2", "12", "6", "no"],
    ]
    assert "HBO" in drawer.inner_text()

    # Delete one item, with confirmation.
    page.click("#media-drawer [data-delete]")
    page.wait_for_selector("#delete-item-dialog:not(.hidden) strong:text-is('The Wire')")
    page.click("#delete-item-dialog [data-confirm]")
    page.wait_for_selector("#media-drawer", state="hidden")
    page.wait_for_selector("#browse-count:text-is('72 items')")
    assert page.locator(".boxset-card:has-text('The Wire')").count() == 0
    with live_app.app.app_context():
        from app.models.media import Media

        titles = set(db.session.scalars(db.select(Media.title)))
    assert "The Wire" not in titles and "12 Angry Men" in titles
    assert page.console_errors == [], page.console_errors
