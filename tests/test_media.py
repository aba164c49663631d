"""The catalog API: field rules, ownership, sorts, filters and both paging modes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.activity import ActivityEntry
from app.models.media import Media, MediaVariant
from tests.factories import household, join, signed_in


@pytest.fixture
def home(app):
    return household(app)


def _add(member, **fields):
    body = {"title": "Untitled", **fields}
    response = member.post("/api/media", json=body)
    assert response.status_code == 201, response.json
    return response.json["result"]


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json["result"]]


# --- fields ------------------------------------------------------------------------------------


def test_an_item_is_created_with_every_field(app, home):
    item = _add(
        home.owner, title="The Matrix", original_title="The Matrix", year=1999,
        format="Blu-ray", runtime=136, overview="Neo learns.", genres=["Sci-Fi", "Action"],
        directors=["Lana Wachowski", "Lilly Wachowski"], cast=["Keanu Reeves", "Carrie-Anne Moss"],
        rating=8.7, user_rating=9, tmdb_id=603, tmdb_media_type="movie", imdb_id="tt0133093",
        upc="085391163121", release_date="1999-03-31", location="Shelf A", notes="Mint",
        trailer_url="https://example.test/trailer",
    )  # fmt: skip
    assert item["added_by"] == home.owner.user_id
    assert item["library_id"] == home.library_id and item["space_id"] == home.space_id
    assert item["genres"] == ["Action", "Sci-Fi"]
    assert item["cast"] == ["Keanu Reeves", "Carrie-Anne Moss"]  # billing order kept
    assert item["release_date"] == "1999-03-31" and item["created_at"].endswith("Z")
    fetched = home.owner.get(f"/api/media/{item['id']}").json["result"]
    assert fetched["variants"] == [] and fetched["seasons"] == []
    assert fetched["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert fetched["added_by_name"] == "Olive"  # the drawer says who added it


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"title": "A", "year": 1887}, "year"),
        ({"title": "A", "year": "1999"}, "year"),
        ({"title": "A", "format": "Betamax"}, "format"),
        ({"title": "A", "media_type": "podcast"}, "media_type"),
        ({"title": "A", "rating": 10.5}, "rating"),
        ({"title": "A", "user_rating": -1}, "user_rating"),
        ({"title": "A", "imdb_id": "0133093"}, "imdb_id"),
        ({"title": "A", "upc": "12ab"}, "upc"),
        ({"title": "A", "genres": "Drama"}, "genres"),
        ({"title": "A", "genres": ["x" * 101]}, "genres"),  # the genres table holds 100
        ({"title": "A", "network": "HBO"}, "network"),
        ({"title": "A", "season_number": 2}, "season_number"),
        ({"title": "A", "added_by": 1}, "added_by"),
        ({"title": "A", "trailer_url": "javascript:alert(1)"}, "trailer_url"),
    ],
)
def test_field_rules_answer_400_per_field(app, home, body, field):
    response = home.owner.post("/api/media", json=body)
    assert response.status_code == 400
    assert response.json["code"] == "validation_failed"
    assert field in response.json["message"]


def test_tv_fields_are_allowed_on_tv_types(app, home):
    series = _add(home.owner, title="The Wire", media_type="tv_series", network="HBO")
    episode = _add(
        home.owner,
        title="The Target",
        media_type="tv_episode",
        series_id=series["id"],
        season_number=1,
        episode_number=1,
    )
    assert episode["series_id"] == series["id"]
    change = home.owner.patch(f"/api/media/{series['id']}", json={"media_type": "movie"})
    assert change.status_code == 400  # network must be cleared first
    assert "media_type" in change.json["message"]


def test_the_database_refuses_tv_fields_on_a_movie(app, home):
    from sqlalchemy.exc import IntegrityError

    item = _add(home.owner, title="Heat")
    with app.app_context():
        row = db.session.get(Media, item["id"])
        row.network = "HBO"
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


# --- ownership ---------------------------------------------------------------------------------


def test_members_change_only_what_they_added(app, home):
    mo = join(app, home, "mo@example.test", "member")
    may = join(app, home, "may@example.test", "member")
    mine = _add(mo, title="Mine")
    assert mo.patch(f"/api/media/{mine['id']}", json={"notes": "ok"}).status_code == 200
    denied = may.patch(f"/api/media/{mine['id']}", json={"notes": "hijack"})
    assert denied.status_code == 403 and denied.json["code"] == "forbidden"
    assert may.delete(f"/api/media/{mine['id']}").status_code == 403
    assert may.get(f"/api/media/{mine['id']}").json["result"]["notes"] == "ok"
    assert home.owner.patch(f"/api/media/{mine['id']}", json={"notes": "admin"}).status_code == 200
    assert home.owner.delete(f"/api/media/{mine['id']}").status_code == 204


def test_viewers_read_but_do_not_write(app, home):
    vic = join(app, home, "vic@example.test", "viewer")
    item = _add(home.owner, title="Alien")
    assert vic.get(f"/api/media/{item['id']}").status_code == 200
    assert vic.post("/api/media", json={"title": "Nope"}).status_code == 403
    assert vic.patch(f"/api/media/{item['id']}", json={"notes": "x"}).status_code == 403


def test_another_households_items_are_not_found(app, home):
    item = _add(home.owner, title="Private")
    stranger = signed_in(app, "sam@example.test")
    household_b = household(app, "otto@example.test", "Elsewhere")
    for caller in (stranger, household_b.owner):
        assert caller.get(f"/api/media/{item['id']}").status_code == 404
        assert caller.patch(f"/api/media/{item['id']}", json={"title": "x"}).status_code == 404
        assert caller.delete(f"/api/media/{item['id']}").status_code == 404
    listed = household_b.owner.get(f"/api/media?space_id={home.space_id}")
    assert listed.status_code == 404


def test_changes_are_in_the_activity_log(app, home):
    item = _add(home.owner, title="Heat")
    home.owner.patch(f"/api/media/{item['id']}", json={"year": 1995})
    home.owner.delete(f"/api/media/{item['id']}")
    with app.app_context():
        entries = db.session.scalars(
            select(ActivityEntry)
            .where(ActivityEntry.entity_type == "media")
            .order_by(ActivityEntry.id)
        ).all()
    assert [e.action for e in entries] == ["media.create", "media.update", "media.delete"]
    assert entries[1].details == {"title": "Heat", "fields": ["year"]}


# --- seasons -----------------------------------------------------------------------------------


def test_seasons_belong_to_tv_series_only(app, home):
    series = _add(home.owner, title="Twin Peaks", media_type="tv_series")
    response = home.owner.put(
        f"/api/media/{series['id']}/seasons",
        json={
            "seasons": [
                {"season_number": 1, "expected_episodes": 8, "available_episodes": 8},
                {"season_number": 2, "expected_episodes": 22, "available_episodes": 10},
            ]
        },
    )
    assert response.status_code == 200
    seasons = response.json["result"]["seasons"]
    assert [(s["season_number"], s["is_complete"]) for s in seasons] == [(1, True), (2, False)]
    movie = _add(home.owner, title="Fargo")
    refused = home.owner.put(
        f"/api/media/{movie['id']}/seasons", json={"seasons": [{"season_number": 1}]}
    )
    assert refused.status_code == 400
    twice = home.owner.put(
        f"/api/media/{series['id']}/seasons",
        json={"seasons": [{"season_number": 1}, {"season_number": 1}]},
    )
    assert twice.status_code == 400


# --- sorting and filtering ---------------------------------------------------------------------


@pytest.fixture
def shelf(app, home):
    items = [
        dict(title="The Abyss", year=1989, format="DVD", rating=7.6, genres=["Sci-Fi"],
             directors=["James Cameron"], cast=["Ed Harris"]),
        dict(title="Alien", year=1979, format="Blu-ray", rating=8.5, user_rating=9,
             genres=["Horror", "Sci-Fi"], directors=["Ridley Scott"], cast=["Sigourney Weaver"]),
        dict(title="an American Werewolf in London", year=1981, format="VHS",
             genres=["Horror", "Comedy"], directors=["John Landis"]),
        dict(title="Blade Runner", year=1982, format="4K UHD", rating=8.1, user_rating=7,
             genres=["Sci-Fi"], directors=["Ridley Scott"], cast=["Harrison Ford"]),
        dict(title="Casablanca", format="DVD", genres=["Drama", "Romance"],
             directors=["Michael Curtiz"], cast=["Humphrey Bogart"]),
        dict(title="Twin Peaks", media_type="tv_series", year=1990, genres=["Drama"]),
        dict(title="Pilot", media_type="tv_episode", year=1990),
        dict(title="Making of Alien", media_type="other", year=2003),
    ]  # fmt: skip
    created = {i["title"]: _add(home.owner, **i) for i in items}
    with app.app_context():
        for title, (height, resolution) in {
            "Blade Runner": (2160, "4k"),
            "Alien": (1080, "1080p"),
            "The Abyss": (480, "sd"),
        }.items():
            db.session.add(
                MediaVariant(media_id=created[title]["id"], height=height, resolution=resolution)
            )
        db.session.commit()
    return created


def test_title_order_ignores_leading_articles_and_case(app, home, shelf):
    titles = _titles(home.owner.get("/api/media?media_type=movie"))
    assert titles == [
        "The Abyss",
        "Alien",
        "an American Werewolf in London",
        "Blade Runner",
        "Casablanca",
    ]
    desc = _titles(home.owner.get("/api/media?media_type=movie&sort_dir=desc"))
    assert desc == list(reversed(titles))


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_items_without_a_year_or_rating_sort_last(app, home, shelf, direction):
    by_year = _titles(
        home.owner.get(f"/api/media?media_type=movie&sort_by=year&sort_dir={direction}")
    )
    assert by_year[-1] == "Casablanca"
    by_rating = _titles(
        home.owner.get(f"/api/media?media_type=movie&sort_by=rating&sort_dir={direction}")
    )
    assert set(by_rating[-2:]) == {"Casablanca", "an American Werewolf in London"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("media_type=tv", {"Twin Peaks", "Pilot"}),
        ("media_type=other", {"Making of Alien"}),
        ("format=DVD", {"The Abyss", "Casablanca"}),
        ("genre=sci", {"The Abyss", "Alien", "Blade Runner"}),
        ("genre=HORROR", {"Alien", "an American Werewolf in London"}),
        ("director=scott", {"Alien", "Blade Runner"}),
        ("actor=weaver", {"Alien"}),
        ("year=1982", {"Blade Runner"}),
        (
            "year_min=1981&year_max=1989",
            {"an American Werewolf in London", "Blade Runner", "The Abyss"},
        ),
        ("rating_min=8", {"Alien", "Blade Runner"}),
        ("rating_max=8", {"The Abyss"}),
        ("user_rating_min=8", {"Alien"}),
        ("resolution=4k", {"Blade Runner"}),
        ("resolution=sd", {"The Abyss"}),
        ("search=alien", {"Alien", "Making of Alien"}),
        ("search=the abyss", {"The Abyss"}),
        ("search=bogart", {"Casablanca"}),
        ("genre=sci&year_min=1980&director=cameron", {"The Abyss"}),
        ("search=100%25", set()),
    ],
)
def test_filters(app, home, shelf, query, expected):
    assert set(_titles(home.owner.get(f"/api/media?{query}&limit=200"))) == expected


@pytest.mark.parametrize(
    "query",
    [
        "limit=201",
        "limit=0",
        "page=0",
        "sort_by=colour",
        "sort_dir=up",
        "year=abc",
        "rating_min=11",
        "media_type=podcast",
        "resolution=8k",
        "cursor=!!!",
        "library_id=x",
    ],
)
def test_bad_listing_parameters_are_400(app, home, query):
    response = home.owner.get(f"/api/media?{query}")
    assert response.status_code == 400 and response.json["code"] == "validation_failed"


def test_library_all_lists_every_library_of_the_space(app, home):
    kids = home.owner.post("/api/libraries", json={"name": "Kids"}).json["id"]
    _add(home.owner, title="Movie one")
    _add(home.owner, title="Cartoon", library_id=kids)
    assert _titles(home.owner.get("/api/media")) == ["Movie one"]
    assert _titles(home.owner.get(f"/api/media?library_id={kids}")) == ["Cartoon"]
    assert set(_titles(home.owner.get("/api/media?library_id=all"))) == {"Movie one", "Cartoon"}


# --- paging ------------------------------------------------------------------------------------


@pytest.fixture
def many(app, home):
    with app.app_context():
        for i in range(230):
            db.session.add(Media(
                space_id=home.space_id, library_id=home.library_id, title=f"Film {i % 37:02d}",
                sort_title=f"film {i % 37:02d}", year=None if i % 5 == 0 else 1950 + i % 60,
                rating=None if i % 3 == 0 else (i % 10) + 0.5, added_by=home.owner.user_id,
            ))  # fmt: skip
        db.session.commit()
        return sorted(m.id for m in db.session.scalars(select(Media)))


@pytest.mark.parametrize("sort_by", ["title", "year", "rating", "created_at"])
def test_page_numbers_walk_every_item_exactly_once(app, home, many, sort_by):
    seen: list[int] = []
    page = 1
    while True:
        body = home.owner.get(f"/api/media?sort_by={sort_by}&limit=40&page={page}").json
        seen += [item["id"] for item in body["result"]]
        assert body["count"] == 230 and body["total_pages"] == 6
        if not body["has_more"]:
            break
        page += 1
    assert sorted(seen) == many and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("sort_by", "direction"),
    [
        ("title", "asc"),
        ("year", "desc"),
        ("rating", "asc"),
        ("created_at", "desc"),
        ("user_rating", "desc"),
        ("format", "asc"),
    ],
)
def test_cursors_walk_every_item_exactly_once_even_while_items_are_added(
    app, home, many, sort_by, direction
):
    seen: list[int] = []
    url = f"/api/media?sort_by={sort_by}&sort_dir={direction}&limit=33"
    cursor = None
    added = 0
    while True:
        body = home.owner.get(url + (f"&cursor={cursor}" if cursor else "")).json
        seen += [item["id"] for item in body["result"]]
        cursor = body["next_cursor"]
        if added < 3:  # new items appear while the walk is going on
            _add(home.owner, title=f"Late arrival {added}", year=2001)
            added += 1
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "an item came twice"
    assert set(many) <= set(seen), "an item was skipped"


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_items_added_at_the_same_instant_are_each_walked_once(app, home, direction):
    """An import adds many items with one timestamp: the id breaks the tie, page after page."""
    instant = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
    with app.app_context():
        for i in range(70):
            db.session.add(Media(
                space_id=home.space_id, library_id=home.library_id, title=f"Copy {i}",
                sort_title=f"copy {i}", created_at=instant if i % 7 else instant.replace(hour=9),
            ))  # fmt: skip
        db.session.commit()
    seen: list[tuple[str, int]] = []
    cursor = ""
    while cursor is not None:
        body = home.owner.get(
            f"/api/media?sort_by=created_at&sort_dir={direction}&limit=9&cursor={cursor}"
        ).json
        assert body["count"] == 70
        seen += [(item["created_at"], item["id"]) for item in body["result"]]
        cursor = body["next_cursor"]
    assert len(seen) == 70 and len({i for _t, i in seen}) == 70
    assert seen == sorted(seen, reverse=direction == "desc")


def test_a_cursor_from_another_sort_is_refused(app, home, many):
    cursor = home.owner.get("/api/media?sort_by=title&limit=10").json["next_cursor"]
    response = home.owner.get(f"/api/media?sort_by=year&cursor={cursor}")
    assert response.status_code == 400 and "cursor" in response.json["message"]


def test_deleting_a_library_moves_or_deletes_its_items(app, home):
    kids = home.owner.post("/api/libraries", json={"name": "Kids"}).json["id"]
    toons = home.owner.post("/api/libraries", json={"name": "Toons"}).json["id"]
    moved = _add(home.owner, title="Moved", library_id=kids)
    gone = _add(home.owner, title="Gone", library_id=toons)
    home.owner.delete(
        f"/api/libraries/{kids}",
        json={"confirm_name": "Kids", "media": "move", "target_library_id": home.library_id},
    )
    home.owner.delete(f"/api/libraries/{toons}", json={"confirm_name": "Toons", "media": "delete"})
    assert (
        home.owner.get(f"/api/media/{moved['id']}").json["result"]["library_id"] == home.library_id
    )
    assert home.owner.get(f"/api/media/{gone['id']}").status_code == 404
