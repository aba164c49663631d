"""The duplicates page reads a fixed number of statements, however many groups it shows, and
still lists every group's items exactly as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models.media import Media
from app.services.media import sort_title
from app.services.merge import MAX_GROUP_ITEMS
from tests.factories import household


@pytest.fixture
def home(app):
    return household(app)


def _add_items(app, home, rows: list[dict]) -> list[int]:
    """Items straight into the table (many at once, without an API call each)."""
    with app.app_context():
        items = [
            Media(
                space_id=home.space_id,
                library_id=home.library_id,
                added_by=home.owner.user_id,
                sort_title=sort_title(row["title"]),
                **row,
            )
            for row in rows
        ]
        db.session.add_all(items)
        db.session.commit()
        return [item.id for item in items]


def _add_groups(app, home, first: int, count: int) -> list[tuple[str, str, list[int]]]:
    """`count` groups of two for each reason and kind: TMDB with and without a media type,
    UPC, series titles and film titles. Returns (reason, key, ids) per group."""
    groups = []
    for n in range(first, first + count):
        for reason, key, fields in (
            ("tmdb", f"movie:{1000 + n}", {"tmdb_id": 1000 + n, "tmdb_media_type": "movie"}),
            ("tmdb", f"{2000 + n}", {"tmdb_id": 2000 + n}),
            ("upc", f"0000{n:08d}", {"upc": f"0000{n:08d}"}),
            ("title", f"show {n:03d}", {"media_type": "tv_series", "title": f"Show {n:03d}"}),
            ("title", f"film {n:03d}", {"title": f"Film {n:03d}"}),
        ):
            # Distinct titles unless the title is the reason, so each group has one reason.
            rows = [{"title": f"{reason} {key} copy {c}", **fields} for c in range(2)]
            groups.append((reason, key, _add_items(app, home, rows)))
    return groups


@contextmanager
def _statements(app) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile (observed on the engine)."""
    with app.app_context():
        engine = db.engines[None].engine  # in a test, engines[None] is its connection
    sent: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _page(app, home) -> tuple[int, list[tuple[str, str, list[int]]]]:
    with _statements(app) as sent:
        response = home.owner.get("/api/media/duplicates?limit=200")
    assert response.status_code == 200, response.json
    return len(sent), _listed(response.json["result"])


def _listed(groups: list[dict]) -> list[tuple[str, str, list[int]]]:
    return [(g["reason"], g["key"], [i["id"] for i in g["items"]]) for g in groups]


def _in_page_order(groups):
    rank = {"tmdb": 0, "upc": 1, "title": 2}
    return sorted(groups, key=lambda g: (rank[g[0]], g[1].split(":")[-1], g[1]))


def test_the_duplicates_page_takes_as_many_statements_for_many_groups_as_for_few(app, home):
    few = _add_groups(app, home, 0, 1)
    statements_for_few, page = _page(app, home)
    assert page == _in_page_order(few)

    many = few + _add_groups(app, home, 1, 8)
    statements_for_many, page = _page(app, home)
    assert page == _in_page_order(many) and len(page) == 45

    assert statements_for_many == statements_for_few


def test_a_big_group_lists_its_first_items_and_counts_them_all(app, home):
    big = _add_items(app, home, [{"title": "Heat"} for _ in range(MAX_GROUP_ITEMS + 3)])
    small = _add_items(app, home, [{"title": "Alien"} for _ in range(2)])

    body = home.owner.get("/api/media/duplicates").json

    assert [(g["key"], g["size"], [i["id"] for i in g["items"]]) for g in body["result"]] == [
        ("alien", 2, small),
        ("heat", MAX_GROUP_ITEMS + 3, big[:MAX_GROUP_ITEMS]),
    ]


def test_a_page_of_groups_lists_only_its_own_groups_items(app, home):
    groups = _add_groups(app, home, 0, 3)
    expected = _in_page_order(groups)

    second = home.owner.get("/api/media/duplicates?limit=4&page=2").json["result"]

    assert _listed(second) == expected[4:8]
