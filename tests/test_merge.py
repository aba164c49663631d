"""Near-duplicates: finding them, merging them into one item, and undoing the merge exactly."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
from sqlalchemy import delete, event, insert, select, text

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.activity import ActivityEntry
from app.models.media import (
    Media,
    MediaGenre,
    MediaMerge,
    MediaMetadata,
    MediaPerson,
    MediaSeason,
    MediaVariant,
)
from app.models.tenancy import Space
from tests.conftest import backend
from tests.factories import create_space, household, join, signed_in


@pytest.fixture
def home(app):
    return household(app)


def _add(member, **fields):
    response = member.post("/api/media", json={"title": "Untitled", **fields})
    assert response.status_code == 201, response.json
    return response.json["result"]["id"]


def _attach(app, media_id, *, variants=(), metadata=None, seasons=None):
    """Rows the API cannot create yet (variants, metadata) or sets wholesale (seasons)."""
    with app.app_context():
        for variant in variants:
            db.session.add(MediaVariant(media_id=media_id, **variant))
        for key, value in (metadata or {}).items():
            db.session.add(MediaMetadata(media_id=media_id, key=key, value=value))
        for number, expected in (seasons or {}).items():
            db.session.add(
                MediaSeason(media_id=media_id, season_number=number, expected_episodes=expected)
            )
        db.session.commit()


def _state(app, space_id: int) -> dict[str, list[dict]]:
    """Every catalog row of the space, every column, as the database holds them."""
    with app.app_context():
        media_ids = select(Media.id).where(Media.space_id == space_id)
        state = {}
        for model, condition in (
            (Media, Media.space_id == space_id),
            (MediaVariant, MediaVariant.media_id.in_(media_ids)),
            (MediaSeason, MediaSeason.media_id.in_(media_ids)),
            (MediaMetadata, MediaMetadata.media_id.in_(media_ids)),
            (MediaGenre, MediaGenre.media_id.in_(media_ids)),
            (MediaPerson, MediaPerson.media_id.in_(media_ids)),
        ):
            table = model.__table__
            rows = db.session.execute(select(table).where(condition)).mappings().all()
            state[table.name] = sorted((dict(r) for r in rows), key=repr)
        return state


def _merge(member, keep_id, merge_ids, status=200):
    response = member.post("/api/media/merge", json={"keep_id": keep_id, "merge_ids": merge_ids})
    assert response.status_code == status, response.json
    return response.json


def _undo(member, merge_id, status=200):
    response = member.post(f"/api/media/merges/{merge_id}/undo")
    assert response.status_code == status, response.json
    return response.json


def _groups(member, query: str = "") -> list[tuple[str, list[int]]]:
    response = member.get(f"/api/media/duplicates{query}")
    assert response.status_code == 200, response.json
    return [(g["reason"], [i["id"] for i in g["items"]]) for g in response.json["result"]]


# --- finding duplicates ------------------------------------------------------------------------


def test_duplicates_are_found_for_each_reason_within_the_space(app, home):
    o = home.owner
    matrix = [  # one normalised title, different years and formats
        _add(o, title="The Matrix", year=1999, format="Blu-ray"),
        _add(o, title="matrix", year=1999, format="DVD"),
        _add(o, title="The  Matrix", year=2003),
    ]
    alien = [
        _add(o, title="Alien", upc="012345678905"),
        _add(o, title="Alien (DC)", upc="012345678905"),
    ]
    heat = [
        _add(o, title="Heat", tmdb_id=949, tmdb_media_type="movie"),
        _add(o, title="Heat 4K", tmdb_id=949, tmdb_media_type="movie"),
    ]
    _add(o, title="Heat TV", tmdb_id=949, tmdb_media_type="tv", media_type="tv_series")
    _add(o, title="Fargo")  # a film and a series of one name are not duplicates
    fargo_a = _add(o, title="Fargo", media_type="tv_series")
    fargo_b = _add(o, title="Fargo", media_type="tv_series")
    for series in (fargo_a, fargo_b):  # episodes called "Pilot" in two series are not either
        _add(o, title="Pilot", media_type="tv_episode", series_id=series)
    _add(o, title="Unique")
    theirs = household(app, "theo@example.test", "Theirs")
    their_matrix = [_add(theirs.owner, title="The Matrix") for _ in range(2)]

    assert _groups(o) == [
        ("tmdb", heat),
        ("upc", alien),
        ("title", [fargo_a, fargo_b]),  # groups in key order: "fargo" before "matrix"
        ("title", matrix),
    ]
    body = o.get("/api/media/duplicates").json
    assert body["count"] == 4 and body["has_more"] is False
    first = body["result"][0]
    assert first["key"] == "movie:949" and first["size"] == 2
    assert set(first["items"][0]) >= {
        "id", "title", "year", "format", "media_type", "library_id", "added_by", "cover_url",
        "thumb_url", "editable",
    }  # fmt: skip
    assert _groups(o, "?reason=upc") == [("upc", alien)]
    assert _groups(theirs.owner) == [("title", their_matrix)]

    paged = o.get("/api/media/duplicates?limit=1&page=2").json
    assert paged["count"] == 4 and paged["total_pages"] == 4 and paged["has_more"] is True
    assert [i["id"] for i in paged["result"][0]["items"]] == alien
    beyond = o.get("/api/media/duplicates?page=9").json
    assert beyond["count"] == 4 and beyond["result"] == [] and beyond["has_more"] is False


def test_a_group_with_the_same_items_for_several_reasons_is_shown_once(app, home):
    o = home.owner
    ids = [_add(o, title="Heat", upc="0123456789", tmdb_id=949, tmdb_media_type="movie")
           for _ in range(2)]  # fmt: skip
    body = o.get("/api/media/duplicates").json
    assert body["count"] == 3  # (tmdb, upc, title) keys
    assert [(g["reasons"], [i["id"] for i in g["items"]]) for g in body["result"]] == [
        (["tmdb", "upc", "title"], ids)
    ]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=201", "?page=0", "?reason=isbn", "?limit=x"])
def test_bad_duplicate_parameters_are_400(app, home, query):
    response = home.owner.get(f"/api/media/duplicates{query}")
    assert response.status_code == 400 and response.json["code"] == "validation_failed"


def test_another_households_duplicates_are_not_found(app, home):
    theirs = household(app, "theo@example.test", "Theirs")
    response = home.owner.get(f"/api/media/duplicates?space_id={theirs.space_id}")
    assert response.status_code == 404 and response.json["code"] == "not_found"


def test_the_duplicates_page_is_for_members(app, home):
    viewer = join(app, home, "vic@example.test", "viewer")
    page = home.owner.get("/duplicates")
    assert page.status_code == 200 and 'data-page="duplicates"' in page.get_data(as_text=True)
    assert 'id="nav-duplicates"' in page.get_data(as_text=True)
    assert viewer.get("/duplicates").status_code == 403


# --- merging -----------------------------------------------------------------------------------


@pytest.fixture
def series(app, home):
    """Three copies of one series with seasons, variants, metadata, people and episodes."""
    o = home.owner
    kept = _add(o, title="The Wire", media_type="tv_series", network="HBO", year=2002,
                genres=["Drama"], directors=["David Simon"], cast=["Dominic West"])  # fmt: skip
    second = _add(o, title="Wire", media_type="tv_series", format="DVD", year=2002,
                  upc="883929000001", genres=["Crime", "Drama"],
                  directors=["David Simon", "Ed Burns"],
                  cast=["Idris Elba", "Dominic West", "Sonja Sohn"])  # fmt: skip
    third = _add(o, title="The Wire (4K)", media_type="tv_series", user_rating=9.5)
    _attach(app, kept, seasons={1: 13, 2: 12}, metadata={"box": "kept's box"},
            variants=[{"edition": "Kept", "format": "Blu-ray", "resolution": "1080p"}])  # fmt: skip
    _attach(app, second, seasons={2: 99, 3: 12}, metadata={"box": "second's box", "shelf": "B2"},
            variants=[{"edition": "Second", "format": "DVD", "resolution": "sd"},
                      {"edition": "Second bonus", "format": "DVD"}])  # fmt: skip
    _attach(app, third, seasons={4: 13}, variants=[{"edition": "Third", "resolution": "4k"}])
    episodes = [
        _add(o, title="The Target", media_type="tv_episode", series_id=second, season_number=1),
        _add(o, title="Middle Ground", media_type="tv_episode", series_id=third, season_number=3),
    ]
    return {"kept": kept, "second": second, "third": third, "episodes": episodes}


def test_merge_moves_variants_seasons_metadata_and_episodes(app, home, series):
    o = home.owner
    body = _merge(o, series["kept"], [series["second"], series["third"]])
    assert body["id"] == series["kept"] and isinstance(body["merge_id"], int)
    kept = body["result"]
    assert kept["title"] == "The Wire" and kept["upc"] is None  # its own fields stay
    assert [v["edition"] for v in kept["variants"]] == ["Kept", "Second", "Second bonus", "Third"]
    assert [(s["season_number"], s["expected_episodes"]) for s in kept["seasons"]] == [
        (1, 13), (2, 12), (3, 12), (4, 13),
    ]  # fmt: skip
    assert kept["metadata"] == {"box": "kept's box", "shelf": "B2"}
    for gone in (series["second"], series["third"]):
        assert o.get(f"/api/media/{gone}").status_code == 404
    for episode in series["episodes"]:
        assert o.get(f"/api/media/{episode}").json["result"]["series_id"] == series["kept"]
    with app.app_context():
        gone = [series["second"], series["third"]]
        assert not db.session.scalars(select(MediaGenre).where(MediaGenre.media_id.in_(gone))).all()
        assert not db.session.scalars(
            select(MediaPerson).where(MediaPerson.media_id.in_(gone))
        ).all()
        entry = db.session.scalars(
            select(ActivityEntry).where(ActivityEntry.action == "media.merge")
        ).one()
        assert entry.entity_type == "media" and entry.entity_id == str(series["kept"])
        assert entry.space_id == home.space_id and entry.user_id == o.user_id
        assert entry.details == {
            "merge_id": body["merge_id"], "kept_id": series["kept"],
            "merged_ids": gone, "titles": ["Wire", "The Wire (4K)"], "kept_title": "The Wire",
        }  # fmt: skip
    assert _groups(o) == []
    merge = o.get(f"/api/media/merges/{body['merge_id']}").json["result"]
    assert merge["kept_id"] == series["kept"] and merge["undone_at"] is None
    assert merge["can_undo"] is True and merge["titles"] == ["Wire", "The Wire (4K)"]


def test_undo_restores_everything_exactly(app, home, series):
    o = home.owner
    before = _state(app, home.space_id)
    details = {
        i: o.get(f"/api/media/{i}").json["result"] for i in series.values() if isinstance(i, int)
    }
    merge_id = _merge(o, series["kept"], [series["second"], series["third"]])["merge_id"]
    assert _state(app, home.space_id) != before

    undone = _undo(o, merge_id)
    assert undone == {
        "id": merge_id,
        "result": {"merge_id": merge_id, "kept_id": series["kept"],
                   "restored_ids": [series["second"], series["third"]]},
    }  # fmt: skip
    assert _state(app, home.space_id) == before  # same ids, every column, every link
    for item_id, detail in details.items():
        assert o.get(f"/api/media/{item_id}").json["result"] == detail
    second = details[series["second"]]
    assert second["cast"] == ["Idris Elba", "Dominic West", "Sonja Sohn"]  # billing order
    assert [s["season_number"] for s in second["seasons"]] == [2, 3]  # the dropped one is back
    assert second["metadata"] == {"box": "second's box", "shelf": "B2"}

    again = _undo(o, merge_id, status=409)
    assert again["code"] == "conflict"
    merge = o.get(f"/api/media/merges/{merge_id}").json["result"]
    assert merge["undone_at"] is not None and merge["undone_by"] == o.user_id
    assert merge["can_undo"] is False
    with app.app_context():
        entry = db.session.scalars(
            select(ActivityEntry).where(ActivityEntry.action == "media.merge.undo")
        ).one()
        assert entry.details["merge_id"] == merge_id
        assert entry.details["restored_ids"] == [series["second"], series["third"]]


def test_undo_brings_back_rows_deleted_since_and_leaves_later_changes(app, home, series):
    o = home.owner
    merge_id = _merge(o, series["kept"], [series["third"]])["merge_id"]
    # After the merge, someone replaces the kept series' seasons (season 4 came from "third").
    response = o.put(
        f"/api/media/{series['kept']}/seasons", json={"seasons": [{"season_number": 1}]}
    )
    assert response.status_code == 200
    _undo(o, merge_id)
    third = o.get(f"/api/media/{series['third']}").json["result"]
    assert [(s["season_number"], s["expected_episodes"]) for s in third["seasons"]] == [(4, 13)]
    assert [v["edition"] for v in third["variants"]] == ["Third"]
    kept = o.get(f"/api/media/{series['kept']}").json["result"]
    assert [s["season_number"] for s in kept["seasons"]] == [1]
    assert [v["edition"] for v in kept["variants"]] == ["Kept"]


def test_new_items_after_an_undo_get_fresh_ids(app, home):
    """Rows restored with explicit ids must not leave the id sequence behind (PostgreSQL)."""
    o = home.owner
    kept = _add(o, title="Heat")
    with app.app_context():  # an item whose id never came from the sequence (a restore, say)
        highest = db.session.scalar(select(db.func.max(Media.id)))
        row = {
            c.name: getattr(db.session.get(Media, kept), c.name) for c in Media.__table__.columns
        }
        db.session.execute(
            insert(Media.__table__).values({**row, "id": highest + 1, "title": "Heat (copy)"})
        )
        db.session.commit()
    copy_id = highest + 1
    merge_id = _merge(o, kept, [copy_id])["merge_id"]
    assert _undo(o, merge_id)["result"]["restored_ids"] == [copy_id]
    fresh = [_add(o, title=f"New {n}") for n in range(3)]
    assert min(fresh) > copy_id
    assert o.get(f"/api/media/{copy_id}").json["result"]["title"] == "Heat (copy)"


def test_undo_is_refused_when_a_merged_items_id_was_taken_meanwhile(app, home):
    """SQLite hands the highest id out again once its row is deleted."""
    o = home.owner
    kept, dup = _add(o, title="Heat"), _add(o, title="Heat")
    merge_id = _merge(o, kept, [dup])["merge_id"]
    with app.app_context():
        row = {
            c.name: getattr(db.session.get(Media, kept), c.name) for c in Media.__table__.columns
        }
        db.session.execute(insert(Media.__table__).values({**row, "id": dup, "title": "Newcomer"}))
        db.session.commit()
    before = _state(app, home.space_id)
    response = _undo(o, merge_id, status=409)
    assert response["code"] == "conflict" and str(dup) in response["message"]
    assert _state(app, home.space_id) == before
    assert o.get(f"/api/media/merges/{merge_id}").json["result"]["undone_at"] is None


# --- who may merge -----------------------------------------------------------------------------


def test_members_merge_only_what_they_added(app, home):
    mo = join(app, home, "mo@example.test", "member")
    may = join(app, home, "may@example.test", "member")
    mine = [_add(mo, title="Heat") for _ in range(3)]
    hers = _add(may, title="Heat")
    for keep, merged in ((mine[0], [hers]), (hers, [mine[0]]), (mine[0], [mine[1], hers])):
        before = _state(app, home.space_id)
        denied = _merge(mo, keep, merged, status=403)
        assert denied["code"] == "forbidden"
        assert _state(app, home.space_id) == before
    merge_id = _merge(mo, mine[0], [mine[1]])["merge_id"]
    assert _undo(may, merge_id, status=403)["code"] == "forbidden"
    _undo(mo, merge_id)
    groups = mo.get("/api/media/duplicates").json["result"]
    assert {i["id"]: i["editable"] for i in groups[0]["items"]} == {
        mine[0]: True, mine[1]: True, mine[2]: True, hers: False,
    }  # fmt: skip


def test_viewers_cannot_merge_or_undo(app, home):
    viewer = join(app, home, "vic@example.test", "viewer")
    a, b = _add(home.owner, title="Heat"), _add(home.owner, title="Heat")
    assert _merge(viewer, a, [b], status=403)["code"] == "forbidden"
    merge_id = _merge(home.owner, a, [b])["merge_id"]
    assert _undo(viewer, merge_id, status=403)["code"] == "forbidden"
    assert viewer.get("/api/media/duplicates").status_code == 200  # reading is fine


def test_space_admins_merge_and_undo_anyones_items(app, home):
    mo = join(app, home, "mo@example.test", "member")
    ada = join(app, home, "ada@example.test", "admin")
    a, b = _add(mo, title="Heat"), _add(home.owner, title="Heat")
    merge_id = _merge(ada, a, [b])["merge_id"]
    _undo(home.owner, merge_id)  # another admin (the owner) may undo it too
    merge_id = _merge(mo, a, [_add(mo, title="Heat")])["merge_id"]
    _undo(ada, merge_id)


def test_another_households_items_and_merges_are_not_found(app, home):
    theirs = household(app, "theo@example.test", "Theirs")
    t1, t2 = _add(theirs.owner, title="Heat"), _add(theirs.owner, title="Heat")
    mine = _add(home.owner, title="Heat")
    for keep, merged in ((t1, [t2]), (mine, [t1]), (t1, [mine])):
        response = _merge(home.owner, keep, merged, status=404)
        assert response["code"] == "not_found"
    response = home.owner.post(
        f"/api/media/merge?space_id={theirs.space_id}", json={"keep_id": t1, "merge_ids": [t2]}
    )
    assert response.status_code == 404
    merge_id = _merge(theirs.owner, t1, [t2])["merge_id"]
    assert home.owner.get(f"/api/media/merges/{merge_id}").status_code == 404
    assert _undo(home.owner, merge_id, status=404)["code"] == "not_found"
    assert _merge(home.owner, mine, [999_999_999], status=404)["code"] == "not_found"


def test_a_merged_item_cannot_be_merged_again(app, home):
    a, b, c = (_add(home.owner, title="Heat") for _ in range(3))
    _merge(home.owner, a, [b])
    assert _merge(home.owner, c, [b], status=404)["code"] == "not_found"
    assert _merge(home.owner, b, [c], status=404)["code"] == "not_found"


def test_a_series_merges_only_with_series(app, home):
    show = _add(home.owner, title="Fargo", media_type="tv_series")
    film = _add(home.owner, title="Fargo")
    for keep, merged in ((show, [film]), (film, [show])):
        response = _merge(home.owner, keep, merged, status=400)
        assert response["code"] == "validation_failed" and "merge_ids" in response["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"keep_id": 1},
        {"merge_ids": [2]},
        {"keep_id": 1, "merge_ids": []},
        {"keep_id": 1, "merge_ids": [1]},
        {"keep_id": 1, "merge_ids": [2, 2]},
        {"keep_id": 1, "merge_ids": list(range(2, 53))},
        {"keep_id": "1", "merge_ids": [2]},
        {"keep_id": 1, "merge_ids": "2"},
        {"keep_id": 1, "merge_ids": [0]},
        {"keep_id": 1, "merge_ids": [2**31]},
        {"keep_id": 1.5, "merge_ids": [2]},
        {"keep_id": None, "merge_ids": [2]},
        {"keep_id": 1, "merge_ids": [None]},
        {"keep_id": 1, "merge_ids": [2], "force": True},
    ],
)
def test_malformed_merge_bodies_are_400(app, home, body):
    response = home.owner.post("/api/media/merge", json=body)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "validation_failed"


def test_a_merge_body_that_is_not_a_json_object_is_400(app, home):
    o = home.owner
    for data, content_type in (("[1, 2]", "application/json"), ("keep=1", "text/plain"),
                               ("{", "application/json")):  # fmt: skip
        response = o.client.post(
            "/api/media/merge", data=data, headers={**o.csrf, "Content-Type": content_type}
        )
        assert response.status_code == 400, (data, response.json)
        assert response.json["code"] in ("validation_failed", "malformed_request")


# --- concurrency -------------------------------------------------------------------------------


def _waiting_for_a_lock(app) -> bool:
    if backend() != "postgresql":
        time.sleep(0.5)  # SQLite: the request waits for the write lock (BEGIN IMMEDIATE)
        return True
    with app.app_context(), db.engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


@pytest.mark.no_db_transaction
def test_two_merges_of_the_same_item_cannot_both_succeed(app):
    """While one merge holds an item (and deletes it), a second merge of that item waits and
    then answers 404, instead of merging an item that is gone."""
    tag = secrets.token_hex(4)
    owner = signed_in(app, f"race-{tag}@example.test")
    space_id, _library_id = create_space(app, owner.user_id, f"Race {tag}")
    try:
        a, b, c = (_add(owner, title="Heat") for _ in range(3))
        with app.app_context(), db.engine.connect() as conn:
            winner = conn.begin()  # the first merge: it holds b and deletes it
            conn.execute(select(Media.id).where(Media.id == b).with_for_update())
            conn.execute(delete(Media).where(Media.id == b))
            answers = []
            loser = threading.Thread(
                target=lambda: answers.append(
                    owner.post("/api/media/merge", json={"keep_id": c, "merge_ids": [a, b]})
                )
            )
            loser.start()
            deadline = time.monotonic() + 10
            while not _waiting_for_a_lock(app) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not answers, "the second merge did not wait for the first"
            winner.commit()
        loser.join(timeout=30)
        assert answers[0].status_code == 404, answers[0].json
        assert answers[0].json["code"] == "not_found"
        assert owner.get(f"/api/media/{a}").status_code == 200
        assert owner.get(f"/api/media/{c}").status_code == 200
    finally:
        with app.app_context():
            db.session.execute(delete(MediaMerge).where(MediaMerge.space_id == space_id))
            db.session.execute(delete(ActivityEntry).where(ActivityEntry.user_id == owner.user_id))
            db.session.delete(db.session.get(Space, space_id))
            db.session.delete(db.session.get(BoxsetUser, owner.user_id))
            db.session.commit()


def test_a_merge_reads_the_items_it_locks_once_however_many_there_are(app, home):
    """The lock reads every item; the ownership check and the snapshot use those rows (then
    the answer reads the kept item again after the commit)."""

    def full_item_reads(count: int) -> int:
        ids = [_add(home.owner, title="Heat") for _ in range(count + 1)]
        with app.app_context():
            engine = db.engines[None].engine  # in a test, engines[None] is its connection
        sent: list[str] = []

        def record(_conn, _cursor, statement, *_args) -> None:
            sent.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            _merge(home.owner, ids[0], ids[1:])
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return sum("media.episode_title" in s and "FROM media" in s for s in sent)

    assert full_item_reads(1) == full_item_reads(5) == 2
