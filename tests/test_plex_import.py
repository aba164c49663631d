"""Plex import against the local fake Plex server: sections, editions as variants, shows with
seasons, re-import, per-item errors, failures of the server, permissions and the flag."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.media import Media, MediaSeason, MediaVariant
from app.services.context import NO_REQUEST
from tests.factories import household, join
from tests.fakes.plex import TOKEN

SECTIONS = [
    {"key": "1", "title": "Movies", "type": "movie"},
    {"key": "2", "title": "TV Shows", "type": "show"},
]


@pytest.fixture
def home(app, fake_plex):
    home = household(app)
    response = home.owner.put(
        "/api/admin/settings/integrations",
        json={"plex_api_url": fake_plex.base_url, "plex_api_token": TOKEN,
              "plex_sections": SECTIONS},
    )  # fmt: skip
    assert response.status_code == 200, response.json
    return home


def _media(app, **where) -> list[Media]:
    with app.app_context():
        query = select(Media)
        for key, value in where.items():
            query = query.where(getattr(Media, key) == value)
        return list(db.session.scalars(query.order_by(Media.id)))


def test_a_plex_import_maps_movies_editions_and_shows(app, home, fake_plex):
    response = home.owner.post("/api/media/import-plex", json={})
    assert response.status_code == 200, response.json
    result = response.json["result"]
    assert result["summary"] == {"total": 8, "created": 7, "updated": 1, "skipped": 0, "failed": 0}
    rows = {r["source_key"]: r for r in result["rows"]}
    assert [r["row"] for r in result["rows"]] == list(range(1, 9))  # continues across sections
    assert rows["1003"]["status"] == "updated" and rows["1003"]["matched_by"] == "plex_guid"
    assert rows["1003"]["media_id"] == rows["1002"]["media_id"]
    items = {m.title: m for m in _media(app, space_id=home.space_id)}
    assert len(items) == 7
    matrix = items["The Matrix"]
    assert (matrix.tmdb_id, matrix.year, matrix.runtime, matrix.user_rating) == (
        603,
        1999,
        136,
        9.0,
    )
    assert matrix.import_source == "plex" and matrix.source_external_id == "1001"
    assert items["Alien"].imdb_id == "tt0078748" and items["Alien"].tmdb_id is None
    with app.app_context():
        per_item = select(MediaVariant.media_id, func.count()).group_by(MediaVariant.media_id)
        variants = dict(db.session.execute(per_item).all())
        assert variants[items["Blade Runner"].id] == 2  # two editions, one item
        assert variants[items["Spirited Away"].id] == 2  # two versions
        assert sum(variants.values()) == 7
        breaking = items["Breaking Bad"]
        assert breaking.media_type == "tv_series" and breaking.tmdb_id == 1396
        numbers = select(MediaSeason.season_number).where(MediaSeason.media_id == breaking.id)
        seasons = list(db.session.scalars(numbers.order_by(MediaSeason.season_number)))
        assert seasons == [1, 2]  # specials left out

    again = home.owner.post("/api/media/import-plex", json={}).json["result"]
    assert again["summary"]["created"] == 0 and again["summary"]["skipped"] == 8
    assert len(_media(app, space_id=home.space_id)) == 7


def test_section_keys_choose_what_is_imported(app, home):
    result = home.owner.post("/api/media/import-plex", json={"section_keys": ["2"]}).json["result"]
    assert result["summary"]["created"] == 2
    assert {m.media_type for m in _media(app, space_id=home.space_id)} == {"tv_series"}
    unknown = home.owner.post("/api/media/import-plex", json={"section_keys": ["99"]})
    assert unknown.status_code == 400 and "section_keys" in unknown.json["message"]
    music = home.owner.post("/api/media/import-plex", json={"section_keys": ["3"]})
    assert music.status_code == 400
    malformed = home.owner.post("/api/media/import-plex", json={"section_keys": "1"})
    assert malformed.status_code == 400
    for body in ({"section_keys": ["1", "1"]}, {"section_keys": []}, {"section_keys": [""]},
                 {"section_keys": [1]}, {"sections": ["1"]}, ["1"]):  # fmt: skip
        refused = home.owner.post("/api/media/import-plex", json=body)
        assert refused.status_code == 400, (body, refused.json)
        assert refused.json["code"] == "validation_failed"


def test_async_plex_import_and_paging(app, home, fake_plex):
    fake_plex.synthetic_movies = 250
    fake_plex.max_page_size = 40
    response = home.owner.post("/api/media/import-plex?async=true", json={"section_keys": ["1"]})
    assert response.status_code == 202, response.json
    job = home.owner.get(f"/api/sync-jobs/{response.json['id']}").json["result"]
    assert job["status"] == "succeeded", job
    assert job["progress"]["total"] == 256 and job["summary"]["total"] == 256
    starts = {
        c.header("X-Plex-Container-Start") for c in fake_plex.calls("/library/sections/1/all")
    }
    assert {"0", "40", "80", "240"} <= starts  # it paged, 40 at a time as the server insists
    assert all(
        c.header("X-Plex-Token") == TOKEN for c in fake_plex.calls("/library/sections/1/all")
    )


def test_a_server_that_fails_gives_a_clear_error(app, home, fake_plex):
    fake_plex.token = "another-token"  # our token is now refused
    response = home.owner.post("/api/media/import-plex", json={})
    assert response.status_code == 502
    assert response.json["code"] == "upstream_error"
    assert "Plex" in response.json["message"] and "credentials" in response.json["message"]
    assert TOKEN not in response.get_data(as_text=True)
    assert _media(app, space_id=home.space_id) == []


def test_only_space_admins_import_from_plex_and_the_flag_gates_it(app, home):
    member = join(app, home, "mel@example.test", "member")
    refused = member.post("/api/media/import-plex", json={})
    assert refused.status_code == 403
    assert home.owner.post("/api/media/import-plex", json={}).status_code == 200
    with app.app_context():
        from app.models.accounts import BoxsetUser
        from app.services import flags

        root = db.session.scalar(select(BoxsetUser).where(BoxsetUser.username == "admin"))
        flags.set_flag(root, "import_plex_enabled", False, NO_REQUEST)
    try:
        off = home.owner.post("/api/media/import-plex", json={})
        assert off.status_code == 503 and off.json["code"] == "feature_disabled"
    finally:
        with app.app_context():
            root = db.session.scalar(select(BoxsetUser).where(BoxsetUser.username == "admin"))
            flags.set_flag(root, "import_plex_enabled", True, NO_REQUEST)


def test_without_plex_settings_the_import_says_what_to_do(app):
    bare = household(app, "bea@example.test", "Bare")
    response = bare.owner.post("/api/media/import-plex", json={})
    assert response.status_code == 400
    assert "Integrations" in str(response.json["message"])


@pytest.mark.no_db_transaction
def test_two_plex_imports_at_the_same_time_create_each_item_once(make_app, fake_plex):
    from app.services import integrations
    from tests.concurrent_imports import counts, imported_twice_at_once

    fake_plex.synthetic_movies = 300

    def plex_settings(scope):
        settings = {"plex_api_url": fake_plex.base_url, "plex_api_token": TOKEN}
        integrations.update_settings(scope, settings, NO_REQUEST)

    sections = {"sections": [{"key": "1", "title": "Movies", "type": "movie"}]}
    with imported_twice_at_once(
        make_app, "plex", None, options=sections, prepare=plex_settings
    ) as app:
        # 306 entries: 6 fixture movies (two editions of Blade Runner) and 300 synthetic ones,
        # every 25th another edition of the one before it: 5 + 288 works, each created once.
        assert counts(app) == (293, 293)
