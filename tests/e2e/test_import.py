"""The Import screen in a browser: a CSV file with its progress and report, and a disc added by
its barcode (against the local fake barcode service and TMDB)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.media import Media
from app.services import integrations, tenancy
from app.services.context import NO_REQUEST
from tests.conftest import PASSWORD
from tests.fakes import tmdb as fake_tmdb_data
from tests.fakes.barcode import BLADE_RUNNER_UPC

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]
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
