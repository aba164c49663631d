"""TMDB search and details, barcode and cover-photo look-ups and the integration Test buttons,
against the local fakes: real HTTP, the space's own settings, clear 4xx/502 answers."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.factories import household, join
from tests.fakes import ocr as fake_ocr_data
from tests.fakes import tmdb as fake_tmdb_data
from tests.fakes.plex import TOKEN as PLEX_TOKEN


@pytest.fixture
def home(app, fake_tmdb, fake_barcode, fake_ocr, fake_plex):
    home = household(app)
    response = home.owner.put(
        "/api/admin/settings/integrations",
        json={
            "tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": fake_tmdb_data.API_KEY,
            "barcode_preset": "upcitemdb", "barcode_api_url": fake_barcode.upcitemdb_url,
            "vision_api_url": fake_ocr.base_url, "vision_api_key": fake_ocr_data.API_KEY,
            "plex_api_url": fake_plex.base_url, "plex_api_token": PLEX_TOKEN,
        },
    )  # fmt: skip
    assert response.status_code == 200, response.json
    return home


COVER_URL = "/api/media/recognize-cover"


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 450), (30, 30, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_tmdb_search_and_details(app, home):
    found = home.owner.post("/api/media/search-tmdb", json={"title": "blade runner"})
    assert found.status_code == 200, found.json
    first = found.json["result"][0]
    assert first["tmdb_id"] == 78 and first["tmdb_media_type"] == "movie" and first["year"] == 1982
    details = home.owner.get("/api/media/tmdb/78/details?media_type=movie").json["result"]
    assert details["directors"] == ["Ridley Scott"] and details["runtime"] == 117
    # What TMDB gives can be saved as it is.
    created = home.owner.post(
        "/api/media", json={k: v for k, v in details.items() if k != "seasons"}
    )
    assert created.status_code == 201, created.json
    tv = home.owner.get("/api/media/tmdb/1396/details?media_type=tv").json["result"]
    assert tv["media_type"] == "tv_series" and tv["network"] == "AMC"
    assert [s["season_number"] for s in tv["seasons"]][:2] == [1, 2]


def test_tmdb_failures_are_clear(app, home, fake_tmdb):
    unknown = home.owner.get("/api/media/tmdb/4242/details?media_type=movie")
    assert unknown.status_code == 404 and unknown.json["code"] == "not_found"
    assert home.owner.post("/api/media/search-tmdb", json={"title": ""}).status_code == 400
    assert home.owner.post("/api/media/search-tmdb", json={"title": 5}).status_code == 400
    fake_tmdb.fail_next(5, 500)
    broken = home.owner.post("/api/media/search-tmdb", json={"title": "heat"})
    assert broken.status_code == 502 and broken.json["code"] == "upstream_error"
    assert "TMDB" in broken.json["message"] and "500" in broken.json["message"]
    fake_tmdb.reset()
    fake_tmdb.fail_next(1, 401)
    refused = home.owner.post("/api/media/search-tmdb", json={"title": "heat"})
    assert refused.status_code == 502 and "credentials" in refused.json["message"]
    assert fake_tmdb_data.API_KEY not in refused.get_data(as_text=True)


def test_barcode_lookup_finds_the_title_on_tmdb(app, home):
    response = home.owner.post("/api/media/lookup-upc", json={"upc": "0 85765 41223 7"})
    assert response.status_code == 200, response.json
    result = response.json["result"]
    assert result["upc"].endswith("85765412237") and result["provider"] == "upcitemdb"
    match = result["matches"][0]
    assert "Blade Runner" in match["title"] and match["tmdb"]["tmdb_id"] == 78
    unknown = home.owner.post("/api/media/lookup-upc", json={"upc": "012345678905"})
    assert unknown.status_code == 200 and unknown.json["result"]["matches"] == []
    bad = home.owner.post("/api/media/lookup-upc", json={"upc": "not-a-code"})
    assert bad.status_code == 400 and "upc" in bad.json["message"]


def test_cover_photo_to_tmdb_matches(app, home, fake_ocr):
    response = home.owner.upload(COVER_URL, _photo(), "c.jpg", field="cover")
    assert response.status_code == 200, response.json
    result = response.json["result"]
    assert result["extracted_text"] and result["title_candidates"]
    assert any(m["tmdb_id"] == 78 for m in result["tmdb_matches"])
    assert fake_ocr.calls("/parse/image")[0].header("apikey") == fake_ocr_data.API_KEY
    not_image = home.owner.upload(COVER_URL, b"hello", "c.jpg", field="cover")
    assert not_image.status_code == 415


def test_integration_test_buttons(app, home, fake_tmdb):
    for provider in ("tmdb", "barcode", "vision", "plex"):
        response = home.owner.post(f"/api/admin/settings/integrations/test-{provider}")
        assert response.status_code == 200, (provider, response.json)
        assert response.json["result"]["ok"] is True, (provider, response.json)
    plex = home.owner.post("/api/admin/settings/integrations/test-plex").json["result"]
    assert {s["key"] for s in plex["sections"]} >= {"1", "2"}
    fake_tmdb.fail_next(1, 401)
    wrong = home.owner.post("/api/admin/settings/integrations/test-tmdb").json["result"]
    assert wrong["ok"] is False and wrong["authenticated"] is False
    assert home.owner.post("/api/admin/settings/integrations/test-nope").status_code == 404
    member = join(app, home, "mel@example.test", "member")
    assert member.post("/api/admin/settings/integrations/test-tmdb").status_code == 403


def test_without_a_key_tmdb_search_says_so(app):
    bare = household(app, "bea@example.test", "Bare")
    response = bare.owner.post("/api/media/search-tmdb", json={"title": "heat"})
    assert response.status_code == 400, response.json
    assert response.json["message"] == "TMDB has no API key configured: add it under Integrations."


def test_viewers_do_not_spend_the_spaces_provider_quota(app, home, fake_tmdb):
    viewer = join(app, home, "vic@example.test", "viewer")
    for method, url, body in (
        ("post", "/api/media/search-tmdb", {"title": "heat"}),
        ("get", "/api/media/tmdb/78/details?media_type=movie", None),
        ("post", "/api/media/lookup-upc", {"upc": "085765412237"}),
    ):
        response = getattr(viewer, method)(url, json=body) if body else viewer.get(url)
        assert response.status_code == 403, (url, response.json)
    assert fake_tmdb.calls("/3/search/movie") == []
    photo = viewer.upload(COVER_URL, b"not even an image", "c.jpg", field="cover")
    assert photo.status_code == 403, photo.json  # refused before the photo is decoded
