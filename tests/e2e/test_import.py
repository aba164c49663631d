"""The Import screen in a browser: a CSV file with its progress and report, and a disc added by
its barcode (against the local fake barcode service and TMDB)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.media import Media
from app.services import integrations, tenancy
from app.services.context import NO_REQUEST
from tests.conftest import PASSWORD
from tests.fakes import tmdb as fake_tmdb_data
from tests.fakes.barcode import BLADE_RUNNER_UPC
from tests.fakes.plex import TOKEN as PLEX_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]
DELICIOUS = Path(__file__).parent.parent / "fixtures" / "delicious"
CSV = (
    "title,year,format,genres\n"
    "Heat,1995,DVD,Crime|Drama\n"
    "Das Boot,abc,DVD,War\n"
    '"Good Night, and Good Luck.",2005,Blu-ray,Drama\n'
)


def _household(app, fake_tmdb, fake_barcode) -> int:
    with app.app_context():
        mia = db.session.scalar(db.select(BoxsetUser).where(BoxsetUser.username == "mia"))
        space, library = tenancy.create_space_for(mia, "Home", info=NO_REQUEST)
        db.session.commit()
        scope = tenancy.resolve_scope(mia, space_id=space.id)
        integrations.update_settings(
            scope,
            {"tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": fake_tmdb_data.API_KEY,
             "barcode_preset": "upcitemdb", "barcode_api_url": fake_barcode.upcitemdb_url},
            NO_REQUEST,
        )  # fmt: skip
        return library.id


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (20, 30), (90, 20, 20)).save(buffer, "PNG")
    return buffer.getvalue()


def _sign_in(page, url: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", "mia@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("h1")


def test_csv_import_and_a_barcode(live_app, browser_page, fake_tmdb, fake_barcode, tmp_path):
    _household(live_app.app, fake_tmdb, fake_barcode)
    page = browser_page
    # TMDB's image server, faked too: posters come back as a small PNG.
    page.route("https://image.tmdb.org/**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=_png()))  # fmt: skip
    _sign_in(page, live_app.url)
    page.click("#nav-import")
    page.wait_for_selector("#tab-plex:not(.hidden)")

    page.click("#tab-link-csv")
    path = tmp_path / "films.csv"
    path.write_text(CSV, encoding="utf-8")
    page.set_input_files("#csv-file", str(path))
    page.click("#csv-form [data-start]")
    page.wait_for_selector("#job-panel[data-status=succeeded]")
    assert page.get_attribute("#job-progress", "aria-valuenow") == "100"
    assert "2 created, 0 updated, 0 skipped, 1 failed" in page.inner_text("#job-panel")
    page.wait_for_selector("#job-rows tr.boxset-row-failed")
    failed = page.inner_text("#job-rows tr.boxset-row-failed")
    assert "Das Boot" in failed and "year" in failed
    link = page.get_attribute("#job-report-link", "href")
    report = page.request.get(f"{live_app.url}{link}")
    assert report.ok and "Das Boot" in report.text()
    page.wait_for_selector("#jobs-body tr[data-job-id]")

    page.click("#tab-link-barcode")
    page.fill("#barcode-input", BLADE_RUNNER_UPC)
    page.press("#barcode-input", "Enter")  # what a USB scanner does
    page.wait_for_selector("#barcode-results .boxset-match")
    assert "Blade Runner (1982)" in page.inner_text("#barcode-results")
    page.click("#barcode-results .boxset-match button")
    page.wait_for_selector("#barcode-results [data-added]:text-is('Added ✓')")
    with live_app.app.app_context():
        item = db.session.scalar(db.select(Media).where(Media.tmdb_id == 78))
        assert item is not None and item.upc and item.upc.endswith("85765412237")
        assert item.runtime == 117
    assert page.console_errors == [], page.console_errors


def test_plex_set_up_and_imported_then_a_delicious_file(
    live_app, browser_page, fake_tmdb, fake_barcode, fake_plex
):
    _household(live_app.app, fake_tmdb, fake_barcode)
    page = browser_page
    _sign_in(page, live_app.url)

    # Configure Plex against the local fake: address, token, Test lists the sections.
    page.click("#nav-integrations")
    page.wait_for_selector("#integrations-form")
    page.fill("#plex_api_url", fake_plex.base_url)
    page.fill("#plex_api_token", PLEX_TOKEN)
    page.click("#integrations-save")
    page.wait_for_selector(
        "[data-secret=plex_api_token] [data-secret-state]:has-text('this space')"
    )
    page.click("[data-test=plex]")
    page.wait_for_selector("[data-test-result=plex]:has-text('section')")
    page.check("#plex-sections input[data-section-key='1']")
    page.check("#plex-sections input[data-section-key='2']")
    with page.expect_response(lambda r: r.request.method == "PUT") as saved:
        page.click("#integrations-save")
    assert saved.value.ok

    # Import: the progress bar finishes and the report lists every item.
    page.click("#nav-import")
    page.click("#tab-link-plex")
    page.wait_for_selector("#plex-form input[name=section][value='2']")
    page.click("#plex-form [data-start]")
    page.wait_for_selector("#job-panel[data-status=succeeded]")
    assert page.get_attribute("#job-progress", "aria-valuenow") == "100"
    assert "7 created, 1 updated, 0 skipped, 0 failed" in page.inner_text("#job-panel")
    page.wait_for_selector("#job-rows tr >> nth=7")
    assert "Blade Runner" in page.inner_text("#job-rows")
    page.select_option("#job-row-filter", "updated")
    expect(page.locator("#job-rows tr")).to_have_count(1)
    assert page.locator("#job-rows tr.boxset-row-updated").count() == 1
    with page.expect_download() as download:
        page.click("#job-report-link")
    report = download.value.path().read_text(encoding="utf-8")
    assert report.startswith("row,source_key,title,status") and "Breaking Bad" in report

    # A Delicious Library file.
    page.click("#tab-link-delicious")
    page.set_input_files("#delicious-file", str(DELICIOUS / "dl1_movies.xml"))
    page.click("#delicious-form [data-start]")
    page.wait_for_selector(
        "#job-panel[data-status=succeeded] [data-job-title]:has-text('Delicious')"
    )
    summary = page.inner_text("#job-panel [data-job-summary]")
    # Heat, Alien, Blade Runner and The Matrix came from Plex already: they are filled in.
    assert summary == "4 created, 4 updated, 0 skipped, 0 failed", summary
    page.wait_for_selector("#jobs-body tr[data-job-id] >> nth=1")
    assert page.console_errors == [], page.console_errors


def test_the_add_form_fills_itself_from_tmdb(live_app, browser_page, fake_tmdb, fake_barcode):
    library_id = _household(live_app.app, fake_tmdb, fake_barcode)
    page = browser_page
    page.route("https://image.tmdb.org/**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=_png()))  # fmt: skip
    _sign_in(page, live_app.url)
    page.goto(f"{live_app.url}/libraries/{library_id}")
    page.wait_for_selector("#browse-count")
    page.click("#add-item")
    page.fill("#i-lookup", "blade runner")
    page.press("#i-lookup", "Enter")
    page.wait_for_selector("#item-form .boxset-lookup-hit")
    page.click("#item-form .boxset-lookup-hit >> nth=0 >> button")
    page.wait_for_selector("#item-form [data-lookup-results] .text-success")
    assert page.input_value("#i-title") == "Blade Runner"
    assert page.input_value("#i-directors") == "Ridley Scott"
    assert page.input_value("#i-year") == "1982"
    page.select_option("#i-format", "Blu-ray")
    page.click("#item-form [data-save]")
    page.wait_for_selector("#media-drawer:not(.hidden) #drawer-title:text-is('Blade Runner')")
    with live_app.app.app_context():
        item = db.session.scalar(db.select(Media).where(Media.title == "Blade Runner"))
        assert (item.tmdb_id, item.tmdb_media_type, item.runtime) == (78, "movie", 117)
        assert item.cover_url and item.cover_url.startswith("https://image.tmdb.org/")

    # A barcode typed into the same box finds the disc, and its UPC is kept.
    page.click("#media-drawer [data-close]")
    page.click("#add-item")
    page.fill("#i-lookup", BLADE_RUNNER_UPC)
    page.press("#i-lookup", "Enter")
    page.wait_for_selector("#item-form .boxset-lookup-hit")
    assert page.input_value("#i-upc").endswith("85765412237")
    assert page.console_errors == [], page.console_errors
