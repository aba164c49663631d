"""The number of matches of a listing is cached until the catalog changes (catalog revision)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.media import CatalogRevision, Media, MediaVariant
from app.services import media as media_service
from app.services import tenancy
from tests.factories import household


@pytest.fixture
def home(app):
    return household(app)


@contextmanager
def counting_statements(app):
    """The `count(*)` statements the database is sent meanwhile (an observer, not a stub)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "count(*)" in statement.lower():
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _add(member, **fields) -> int:
    response = member.post("/api/media", json={"title": "Untitled", **fields})
    assert response.status_code == 201, response.json
    return response.json["result"]["id"]


def _count(member, query: str = "") -> int:
    response = member.get(f"/api/media?limit=2{query}")
    assert response.status_code == 200, response.json
    return response.json["count"]


def _draft(home) -> None:
    db.session.add(
        Media(space_id=home.space_id, library_id=home.library_id, title="Draft", sort_title="draft")
    )
    db.session.flush()


def _revision(app) -> int:
    with app.app_context():
        return db.session.scalar(select(CatalogRevision.revision))


def test_scrolling_a_listing_counts_its_matches_once(app, home):
    for n in range(5):
        _add(home.owner, title=f"Film {n}", year=2000 + n)
    with counting_statements(app) as counts:
        first = home.owner.get("/api/media?limit=2&year_min=2001").json
        assert first["count"] == 4 and len(counts) == 1
        cursor = first["next_cursor"]
        assert cursor  # more than one page: the next ones must not count again
        while cursor:  # the next pages reuse the count
            page = home.owner.get(f"/api/media?limit=2&year_min=2001&cursor={cursor}").json
            assert page["count"] == 4
            cursor = page["next_cursor"]
        assert home.owner.get("/api/media?limit=2&year_min=2001&page=2").json["count"] == 4
        assert home.owner.get("/api/media?year_min=2001&sort_by=year").json["count"] == 4
        assert len(counts) == 1
        assert _count(home.owner, "&year_min=2002") == 3  # another filter is counted
        assert len(counts) == 2


def test_a_last_page_needs_no_count(app, home):
    for n in range(5):
        _add(home.owner, title=f"Film {n}")
    with counting_statements(app) as counts:
        assert home.owner.get("/api/media?limit=10").json["count"] == 5  # one page
        assert home.owner.get("/api/media?limit=2&page=3").json["count"] == 5  # the last one
        assert counts == []
        body = home.owner.get("/api/media?limit=2&page=4").json  # past the end: counted
        assert body["count"] == 5 and body["result"] == [] and len(counts) == 1
        assert home.owner.get("/api/media?limit=2").json["count"] == 5  # not the last
        assert len(counts) == 1  # (cached)


def test_every_kind_of_change_is_counted_at_once(app, home):
    kept = _add(home.owner, title="Heat", year=1995)
    assert _count(home.owner) == 1 and _count(home.owner, "&year=1995") == 1
    assert _count(home.owner, "&resolution=4k") == 0

    other = _add(home.owner, title="Heat", year=1995, format="DVD")  # created
    assert _count(home.owner) == 2 and _count(home.owner, "&year=1995") == 2

    assert home.owner.patch(f"/api/media/{other}", json={"year": 1996}).status_code == 200
    assert _count(home.owner, "&year=1995") == 1  # changed

    with app.app_context():  # a copy added straight to its table
        db.session.add(MediaVariant(media_id=kept, resolution="4k", height=2160))
        db.session.commit()
    assert _count(home.owner, "&resolution=4k") == 1

    merged = home.owner.post("/api/media/merge", json={"keep_id": kept, "merge_ids": [other]})
    assert merged.status_code == 200, merged.json
    assert _count(home.owner) == 1  # merged away
    undo = home.owner.post(f"/api/media/merges/{merged.json['merge_id']}/undo")
    assert undo.status_code == 200, undo.json
    assert _count(home.owner) == 2  # back

    assert home.owner.delete(f"/api/media/{other}").status_code == 204
    assert _count(home.owner) == 1  # deleted


def test_an_import_is_counted_as_soon_as_it_is_committed(app, home):
    assert _count(home.owner) == 0
    data = b"title,year,format\nAlien,1979,DVD\nAliens,1986,Blu-ray\nHeat,1995,DVD\n"
    response = home.owner.upload("/api/media/import-csv", data, "items.csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _count(home.owner) == 3 and _count(home.owner, "&search=alien") == 2


def test_a_removed_library_leaves_the_count_of_every_library(app, home):
    _add(home.owner, title="Heat")
    second = home.owner.post("/api/libraries", json={"name": "Shows"})
    assert second.status_code == 201, second.json
    library_id = second.json["result"]["id"]
    _add(home.owner, title="The Wire", library_id=library_id)
    assert _count(home.owner, "&library_id=all") == 2
    gone = home.owner.delete(
        f"/api/libraries/{library_id}", json={"confirm_name": "Shows", "media": "delete"}
    )
    assert gone.status_code == 204, gone.json
    assert _count(home.owner, "&library_id=all") == 1


def test_uncommitted_changes_are_counted_but_never_cached(app, home):
    with app.app_context():
        user = db.session.get(BoxsetUser, home.owner.user_id)
        scope = tenancy.resolve_scope(user, library_id=home.library_id)
        assert media_service.list_media(scope, {}).count == 0
        _draft(home)  # written, not committed
        assert media_service.list_media(scope, {}).count == 1
        db.session.rollback()
        scope = tenancy.resolve_scope(user, library_id=home.library_id)
        assert media_service.list_media(scope, {}).count == 0


def test_only_catalog_writes_change_the_revision(app, home):
    before = _revision(app)
    assert before is not None
    with app.app_context():  # a write elsewhere (an account) keeps cached counts
        db.session.execute(
            update(BoxsetUser).where(BoxsetUser.id == home.owner.user_id).values(first_name="Liv")
        )
        db.session.commit()
    assert _revision(app) == before
    _add(home.owner, title="Heat")
    assert _revision(app) != before
    with app.app_context():  # a rolled-back catalog write leaves it
        after = db.session.scalar(select(CatalogRevision.revision))
        _draft(home)
        db.session.rollback()
        assert db.session.scalar(select(CatalogRevision.revision)) == after


@pytest.mark.no_db_transaction
def test_a_write_committed_without_a_session_is_counted(make_app):
    from sqlalchemy import insert

    from tests.concurrent_imports import committed_home

    with committed_home(make_app) as home:
        app = home.app
        with app.app_context():
            user = db.session.get(BoxsetUser, home.user_id)
            scope = tenancy.resolve_scope(user)
            assert media_service.list_media(scope, {}).count == 0  # cached
            before = db.session.scalar(select(CatalogRevision.revision))
            db.session.remove()
            with db.engine.begin() as connection:  # no session: a script, a maintenance task
                connection.execute(
                    insert(Media).values(
                        space_id=scope.space_id, library_id=scope.library_id,
                        title="Heat", sort_title="heat",
                    )
                )  # fmt: skip
            scope = tenancy.resolve_scope(db.session.get(BoxsetUser, home.user_id))
            assert db.session.scalar(select(CatalogRevision.revision)) != before
            assert media_service.list_media(scope, {}).count == 1
            db.session.remove()
