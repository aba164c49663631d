"""Items that move to another library take their import identities along."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.imports import MediaIdentifier
from tests.factories import household

CSV = b"title,year,format,upc\nHeat,1995,DVD,024543104575\n"


@pytest.fixture
def home(app):
    return household(app)


def _library(member, name: str) -> int:
    response = member.post("/api/libraries", json={"name": name})
    assert response.status_code == 201, response.json
    return response.json["result"]["id"]


def _import(member, library_id: int) -> dict:
    response = member.upload(f"/api/media/import-csv?library_id={library_id}", CSV, "items.csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["result"]["rows"][0]


def _identities(app, media_id: int) -> set[tuple[int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(MediaIdentifier.library_id, MediaIdentifier.kind).where(
                MediaIdentifier.media_id == media_id
            )
        )
        return {(library_id, kind) for library_id, kind in rows}


def _titles(member, library_id: int) -> list[str]:
    response = member.get(f"/api/media?library_id={library_id}")
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json["result"]]


def test_a_moved_item_is_found_by_imports_into_its_new_library_only(app, home):
    shelf = _library(home.owner, "Shelf")
    first = _import(home.owner, home.library_id)
    assert first["status"] == "created"
    item = first["media_id"]
    assert {library for library, _kind in _identities(app, item)} == {home.library_id}

    moved = home.owner.patch(f"/api/media/{item}", json={"library_id": shelf})
    assert moved.status_code == 200, moved.json
    assert {library for library, _kind in _identities(app, item)} == {shelf}

    again = _import(home.owner, shelf)  # the new library knows it
    assert again["status"] == "skipped" and again["media_id"] == item
    fresh = _import(home.owner, home.library_id)  # the old one gets its own copy
    assert fresh["status"] == "created" and fresh["media_id"] != item
    assert _titles(home.owner, home.library_id) == ["Heat"]
    assert _titles(home.owner, shelf) == ["Heat"]

    # Moving it back: the old library's identities now belong to the new copy and stay so.
    back = home.owner.patch(f"/api/media/{item}", json={"library_id": home.library_id})
    assert back.status_code == 200, back.json
    assert _identities(app, item) == set()
    assert {library for library, _kind in _identities(app, fresh["media_id"])} == {home.library_id}


def test_items_moved_by_a_library_deletion_keep_their_identities(app, home):
    shelf = _library(home.owner, "Shelf")
    item = _import(home.owner, shelf)["media_id"]
    gone = home.owner.delete(
        f"/api/libraries/{shelf}",
        json={"confirm_name": "Shelf", "media": "move", "target_library_id": home.library_id},
    )
    assert gone.status_code == 204, gone.json
    assert {library for library, _kind in _identities(app, item)} == {home.library_id}
    again = _import(home.owner, home.library_id)
    assert again["status"] == "skipped" and again["media_id"] == item


def test_merging_an_item_from_another_library_moves_its_identities_and_undo_returns_them(app, home):
    shelf = _library(home.owner, "Shelf")
    kept = home.owner.post("/api/media", json={"title": "Heat", "year": 1995}).json["id"]
    twin = _import(home.owner, shelf)["media_id"]  # identities in the shelf library
    merged = home.owner.post("/api/media/merge", json={"keep_id": kept, "merge_ids": [twin]})
    assert merged.status_code == 200, merged.json
    assert {library for library, _kind in _identities(app, kept)} == {home.library_id}
    # The kept item's library now knows the copy; the shelf no longer claims it.
    assert _import(home.owner, home.library_id)["media_id"] == kept
    assert _import(home.owner, shelf)["status"] == "created"


def test_undo_gives_an_item_from_another_library_its_identities_back(app, home):
    shelf = _library(home.owner, "Shelf")
    kept = home.owner.post("/api/media", json={"title": "Heat", "year": 1995}).json["id"]
    twin = _import(home.owner, shelf)["media_id"]
    before = _identities(app, twin)
    merged = home.owner.post("/api/media/merge", json={"keep_id": kept, "merge_ids": [twin]})
    assert merged.status_code == 200, merged.json
    undone = home.owner.post(f"/api/media/merges/{merged.json['merge_id']}/undo")
    assert undone.status_code == 200, undone.json
    assert _identities(app, twin) == before and {lib for lib, _k in before} == {shelf}
    assert _import(home.owner, shelf)["media_id"] == twin
