"""Delicious Library imports through the API: the three export shapes with the results the
fixture README expects, re-imports and cross-source dedupe, hostile and unusable files, two
imports of one file at once, and the mapping rules (dates, RTF, formats, titles, TV sets)."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.imports import SyncJob
from app.models.media import Media
from app.services.importers import delicious
from tests.concurrent_imports import counts, imported_twice_at_once
from tests.factories import household

FIXTURES = Path(__file__).parent / "fixtures" / "delicious"
DL1_UUIDS = {
    "Heat": "6513270E-269E-4D37-B2A7-4DE452E6B438",
    "Firefly": "0FD630F1-F29D-4DA9-953F-48F1A09F76B5",
}


@pytest.fixture
def home(app):
    return household(app)


def _import(member, data: bytes, name: str = "library.xml", query: str = ""):
    return member.upload(f"/api/media/import-csv/delicious{query}", data, name)


def _ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["result"]


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _items(member, result: dict) -> dict[str, dict]:
    """The created or matched items of an import, by their stored title."""
    items = {}
    for row in result["rows"]:
        if row["media_id"]:
            item = member.get(f"/api/media/{row['media_id']}").json["result"]
            items[item["title"]] = {**item, "row": row}
    return items


def _stored(app) -> tuple[int, int]:
    with app.app_context():
        jobs = db.session.scalar(select(func.count()).select_from(SyncJob))
        media = db.session.scalar(select(func.count()).select_from(Media))
        return jobs, media


# --- the three shapes --------------------------------------------------------------------------


def test_dl1_library_imports_each_owned_movie_as_the_readme_expects(app, home):
    result = _ok(_import(home.owner, _fixture("dl1_movies.xml")))
    assert result["summary"] == {"total": 8, "created": 8, "updated": 0, "skipped": 0, "failed": 0}
    assert [r["row"] for r in result["rows"]] == list(range(1, 9))
    titles = [r["title"] for r in result["rows"]]
    assert "Aliens" not in titles and "Stray Entry" not in titles  # recommendation, stray
    items = _items(home.owner, result)

    heat = items["Heat"]
    assert (heat["media_type"], heat["year"], heat["format"]) == ("movie", 1995, "DVD")
    assert heat["runtime"] == 170 and heat["rating"] == 9.0 and heat["user_rating"] is None
    assert heat["directors"] == ["Michael Mann"] and len(heat["cast"]) == 4
    assert heat["release_date"] == "1995-12-15" and heat["upc"] == "0024543104575"
    assert heat["overview"].startswith("A professional thief")
    assert "Michael Mann\u2019s crime epic" in heat["overview"]  # \'d5 in Mac Roman
    assert "\\" not in heat["overview"] and "Helvetica" not in heat["overview"]
    assert heat["overview"].endswith("\nIncludes a commentary track and three featurettes.")
    assert heat["source_external_id"] == DL1_UUIDS["Heat"]
    assert heat["row"]["source_key"] == DL1_UUIDS["Heat"]
    assert heat["metadata"]["disc_release_date"] == "2005-06-03"  # `published`, not the year
    assert heat["metadata"]["asin"] == "B00004RF9J" and "boxed_set" not in heat["metadata"]
    assert "Edition: Special" in heat["notes"] and not heat["row"]["detail"]
    assert heat["genres"] == ["Crime"]  # store categories are not genres

    assert items["Alien"]["year"] == 1979 and "Lent to Sam" in items["Alien"]["notes"]
    blade = items["Blade Runner"]
    assert (blade["year"], blade["format"], blade["rating"]) == (1982, "Blu-ray", 10.0)
    matrix = items["The Matrix"]
    assert (matrix["year"], matrix["format"]) == (1999, "VHS")
    assert matrix["directors"] == ["Lana Wachowski", "Lilly Wachowski"]

    godfather = items["The Godfather Collection"]
    assert godfather["media_type"] == "movie" and "boxed set" in godfather["row"]["detail"]
    assert godfather["year"] is None and godfather["runtime"] is None
    assert godfather["upc"] == "9781558002340" and godfather["metadata"]["boxed_set"] == "5 discs"

    nosferatu = items["Nosferatu"]
    assert nosferatu["year"] is None and nosferatu["runtime"] is None
    assert nosferatu["rating"] is None and nosferatu["upc"] is None

    amelie = items["Le Fabuleux Destin d'Amélie Poulain"]
    assert (amelie["year"], amelie["format"]) == (2001, "DVD")
    assert "€24,99" in amelie["notes"]

    firefly = items["Firefly"]
    assert firefly["media_type"] == "tv_series" and firefly["year"] == 2002
    assert "boxed set" in firefly["row"]["detail"] and firefly["runtime"] is None
    assert "TV Shows" in firefly["notes"] and firefly["metadata"]["shelves"] == "TV Shows"


def test_dl2_plist_imports_movies_and_skips_other_kinds_with_the_reason(app, home):
    result = _ok(_import(home.owner, _fixture("dl2_library.plist.xml"), "export.xml"))
    assert result["summary"] == {"total": 8, "created": 3, "updated": 0, "skipped": 5, "failed": 0}
    skipped = {r["title"]: r["detail"] for r in result["rows"] if r["status"] == "skipped"}
    assert skipped["Dune"] == "kind not catalogued yet: Book"
    assert skipped["The Hobbit: or There and Back Again"] == "kind not catalogued yet: Book"
    assert skipped["Kind of Blue"] == "kind not catalogued yet: Music"
    assert skipped["Random Access Memories"] == "kind not catalogued yet: Album"
    assert skipped["Halo 3"].startswith("kind not catalogued yet: VideoGame")
    items = _items(home.owner, result)

    spirited = items["Spirited Away"]
    assert (spirited["year"], spirited["format"]) == (2001, "DVD")
    assert spirited["user_rating"] == 10.0 and spirited["rating"] == 9.6
    assert spirited["location"] == "Living room, shelf 2"
    assert spirited["notes"].startswith("Kids' favourite.")
    assert spirited["cast"] == ["Rumi Hiiragi", "Miyu Irino", "Mari Natsuki"]
    assert spirited["release_date"] == "2001-07-20"

    heat = items["Heat"]
    assert (heat["year"], heat["format"], heat["user_rating"]) == (1995, "Blu-ray", None)
    assert heat["original_title"] == "Heat [Blu-ray]"

    bad = items["Breaking Bad"]
    assert bad["media_type"] == "tv_series" and bad["year"] is None
    assert bad["season_number"] == 1 and [s["season_number"] for s in bad["seasons"]] == [1]
    assert "boxed set" in bad["row"]["detail"] and bad["runtime"] is None
    assert bad["metadata"]["disc_release_date"] == "2009-02-24"


def test_csv_export_imports_with_spreadsheet_row_numbers(app, home):
    result = _ok(_import(home.owner, _fixture("export.csv"), "export.csv"))
    assert result["summary"] == {"total": 10, "created": 7, "updated": 0, "skipped": 3, "failed": 0}
    rows = {r["row"]: r for r in result["rows"]}
    assert sorted(rows) == list(range(2, 12))  # multi-line notes do not shift the numbering
    assert "PlayStation 2" in rows[7]["detail"] and rows[7]["status"] == "skipped"
    assert rows[7]["title"] == "Ace Combat 5: The Unsung War"
    assert rows[8]["detail"] == "kind not catalogued yet: Book"
    assert rows[9]["detail"] == "kind not catalogued yet: Music"
    items = _items(home.owner, result)
    assert sum(i["media_type"] == "movie" for i in items.values()) == 6
    assert sum(i["media_type"] == "tv_series" for i in items.values()) == 1

    heat = items["Heat"]
    assert (heat["year"], heat["upc"], heat["user_rating"]) == (1995, "0024543104575", 9.0)
    assert heat["metadata"]["asin"] == "B00004RF9J"
    amelie = items["Amélie"]
    assert amelie["release_date"] == "2001-04-25" and amelie["user_rating"] == 10.0
    assert "Signed by Audrey Tautou" in amelie["notes"] and "« Le Fabuleux" in amelie["notes"]
    blade = items["Blade Runner"]
    assert (blade["year"], blade["format"], blade["upc"]) == (1982, "Blu-ray", "0085765412237")
    assert blade["user_rating"] is None and blade["metadata"]["asin"] == "B000UBMS1A"
    godfather = items["The Godfather Collection"]
    assert godfather["year"] is None and "boxed set" in godfather["row"]["detail"]
    assert godfather["metadata"]["disc_release_date"] == "2001-10-09"
    bad = items["Breaking Bad"]
    assert (bad["media_type"], bad["season_number"], bad["year"]) == ("tv_series", 2, None)
    matrix = items["The Matrix"]
    assert (matrix["year"], matrix["format"]) == (1999, "VHS")
    assert matrix["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert 'Tape label says "Not for rental".' in matrix["notes"]
    assert items["Good Night, and Good Luck."]["year"] is None  # a Creation Date is no year


def test_tab_separated_export_imports_too(app, home):
    data = (
        b"Item Type\tTitle\tCreator\tFormat\tRelease Date\tEAN\tRating\n"
        b"Movie\tHeat (Widescreen Edition)\tMichael Mann\tDVD\t1995\t024543104575\t4\n"
    )
    rows = _ok(_import(home.owner, data, "export.txt"))["rows"]
    item = home.owner.get(f"/api/media/{rows[0]['media_id']}").json["result"]
    assert (item["title"], item["year"], item["user_rating"]) == ("Heat", 1995, 8.0)
    assert item["upc"] == "0024543104575" and "Edition: Widescreen Edition" in item["notes"]


# --- re-imports and dedupe ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dl1_movies.xml", "dl2_library.plist.xml", "export.csv"])
def test_importing_the_same_file_again_creates_nothing(app, home, name):
    first = _ok(_import(home.owner, _fixture(name), name))
    before = _stored(app)[1]
    assert before == first["summary"]["created"]
    second = _ok(_import(home.owner, _fixture(name), name))
    assert second["summary"]["created"] == 0 and second["summary"]["failed"] == 0
    assert second["summary"]["updated"] == 0  # nothing new to fill either
    assert second["summary"]["skipped"] == second["summary"]["total"]
    assert _stored(app)[1] == before
    matched = {r["matched_by"] for r in second["rows"] if r["media_id"]}
    assert matched <= {"upc", "delicious_uuid", "title_year_type"}
    assert sum(bool(r["media_id"]) for r in second["rows"]) == first["summary"]["created"]


def test_the_same_product_in_the_xml_and_the_csv_is_one_item(app, home):
    dl1 = _ok(_import(home.owner, _fixture("dl1_movies.xml")))
    by_upc = {
        home.owner.get(f"/api/media/{r['media_id']}").json["result"]["upc"]: r["media_id"]
        for r in dl1["rows"]
    }
    exported = _ok(_import(home.owner, _fixture("export.csv"), "export.csv"))
    assert exported["summary"]["created"] == 2  # Breaking Bad S2 and Good Night, and Good Luck.
    matched = {r["title"]: r for r in exported["rows"] if r["matched_by"]}
    expected = {
        "Heat": "0024543104575",
        "Amélie": "3701342011255",
        "Blade Runner": "0085765412237",
        "The Godfather Collection": "9781558002340",
        "The Matrix": "0076784211536",
    }
    assert set(matched) == set(expected)
    for title, upc in expected.items():
        assert matched[title]["matched_by"] == "upc"
        assert matched[title]["media_id"] == by_upc[upc]
    heat = home.owner.get(f"/api/media/{matched['Heat']['media_id']}").json["result"]
    assert heat["user_rating"] == 9.0 and heat["notes"].startswith("Edition: Special")  # filled
    assert _stored(app)[1] == 10


def test_a_large_library_runs_as_a_job_that_knows_its_total(app, home):
    movies = "".join(
        f'<movie uuid="U-{i}" title="Film {i}" theatricalDate="01-01-{1950 + i % 70}"/>'
        for i in range(510)
    )
    data = f"<library><items>{movies}<book title='A book'/></items></library>".encode()
    response = _import(home.owner, data)
    assert response.status_code == 202, response.json
    job = home.owner.get(f"/api/sync-jobs/{response.json['id']}").json["result"]
    assert job["status"] == "succeeded" and job["provider"] == "csv_delicious"
    assert job["progress"] == {"done": 511, "total": 511}
    assert job["summary"]["created"] == 510 and job["summary"]["skipped"] == 1


def test_a_record_without_title_fails_alone(app, home):
    data = (
        b'<?xml version="1.0" encoding="utf-8"?><library><items>'
        b'<movie uuid="A1" aspect="DVD" minutes="90"/>'
        b'<movie uuid="A2" title="Ok" minutes="lots"/>'
        b'<movie uuid="A3" title="Fine" aspect="Blu-ray 4K Ultra HD" theatricalDate="2019"/>'
        b"</items></library>"
    )
    result = _ok(_import(home.owner, data))
    statuses = [(r["row"], r["status"]) for r in result["rows"]]
    assert statuses == [(1, "failed"), (2, "failed"), (3, "created")]
    assert "title" in result["rows"][0]["detail"] and "runtime" in result["rows"][1]["detail"]
    item = home.owner.get(f"/api/media/{result['rows'][2]['media_id']}").json["result"]
    assert (item["format"], item["year"], item["release_date"]) == ("4K UHD", 2019, None)


# --- refused files -----------------------------------------------------------------------------

_QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE library [<!ENTITY a "' + "x" * 50_000 + '">]>'
    '<library><items><movie title="' + "&a;" * 50_000 + '"/></items></library>'
).encode()
_PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE library [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd">'
    b'%ext;]><library><items><movie title="x"/></items></library>'
)


@pytest.mark.parametrize(
    "data",
    [
        _fixture("billion_laughs.xml"),
        _fixture("external_entity.xml"),
        _QUADRATIC,
        _PARAMETER_ENTITY,
        (Path(__file__).parent / "fixtures" / "plex" / "billion_laughs.xml").read_bytes(),
    ],
    ids=["billion-laughs", "external-entity", "quadratic-blowup", "parameter-entity", "plex"],
)
def test_hostile_xml_is_refused_fast_and_nothing_is_stored(app, home, data):
    started = time.monotonic()
    response = _import(home.owner, data)
    assert time.monotonic() - started < 2
    assert response.status_code == 400, response.json
    assert response.json["code"] == "validation_failed"
    assert "refused for safety" in str(response.json["message"])
    assert _stored(app) == (0, 0)


_NOT_DELICIOUS = "not a Delicious Library export"
_LATIN1_XML = '<?xml version="1.0" encoding="utf-8"?><library><items><movie title="Am\xe9lie"/>'
_UNUSABLE = {
    "other-xml": (b'<?xml version="1.0"?><MediaContainer size="0"/>', _NOT_DELICIOUS),
    "html": (b"<html><body><p>Hello</body></html>", _NOT_DELICIOUS),
    "broken-xml": (
        b'<?xml version="1.0"?><library><items><movie title="x"></items>',
        "well-formed",
    ),
    "no-items": (b'<?xml version="1.0"?><library><items/></library>', "no items"),
    "other-plist": (
        b'<?xml version="1.0"?><plist version="1.0"><array><dict><key>a</key><string>b'
        b"</string></dict></array></plist>",
        _NOT_DELICIOUS,
    ),
    "text": (b"Just some notes I wrote\nabout films\n", _NOT_DELICIOUS),
    "generic-csv": (b"title,media_type,year\nHeat,movie,1995\n", "CSV import"),
    "latin1-csv": ("Item Type,Title\nMovie,Am\xe9lie\n".encode("latin-1"), "UTF-8"),
    "latin1-xml": ((_LATIN1_XML + "</items></library>").encode("latin-1"), "well-formed"),
    "empty": (b"", "empty"),
    "blank": (b"  \n\n", "empty"),
    "sqlite": (b"SQLite format 3\x00" + b"\x00" * 100, "not an export"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
}


@pytest.mark.parametrize(("data", "words"), list(_UNUSABLE.values()), ids=list(_UNUSABLE))
def test_unusable_files_get_a_clear_400_and_nothing_is_stored(app, home, data, words):
    response = _import(home.owner, data)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "validation_failed"
    assert words in str(response.json["message"])
    assert _stored(app) == (0, 0)


def test_a_file_too_large_is_413(app, home):
    data = _fixture("dl1_movies.xml") + b" " * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = _import(home.owner, data)
    assert response.status_code == 413 and response.json["code"] == "payload_too_large"
    assert _stored(app) == (0, 0)


def test_the_library_database_is_named_as_such():
    with pytest.raises(delicious.ImportRejected) as refused:
        delicious.check(b"SQLite format 3\x00rest of the file")
    assert "database" in str(refused.value.message)


# --- two imports at once -----------------------------------------------------------------------


@pytest.mark.no_db_transaction
def test_two_imports_of_one_file_at_the_same_time_create_each_item_once(make_app):
    with imported_twice_at_once(make_app, "csv_delicious", _fixture("dl1_movies.xml")) as app:
        assert counts(app) == (8, 8)


# --- the mapping rules -------------------------------------------------------------------------


def test_dl1_dates_are_day_first_and_only_full_dates_make_a_release_date():
    assert delicious.dl1_date("15-12-1995") == (1995, date(1995, 12, 15))
    assert delicious.dl1_date("31-02-2001") == (2001, None)  # no such day: the year only
    assert delicious.dl1_date("12/15/1995") == (1995, None)  # another layout: the year only
    assert delicious.dl1_date("1995") == (1995, None)
    assert delicious.dl1_date("") == (None, None)
    assert delicious.dl1_date("01-01-0001") == (None, None)


def test_plist_dates_are_local_midnights():
    assert delicious.local_day(datetime(1997, 8, 4, 23, 0)) == date(1997, 8, 5)  # Europe
    assert delicious.local_day(datetime(1999, 9, 14, 7, 0)) == date(1999, 9, 14)  # US
    assert delicious.local_day(None) is None


def test_csv_release_dates():
    assert delicious.csv_date("1995-12-15") == (1995, date(1995, 12, 15))
    assert delicious.csv_date("4/25/2001") == (2001, date(2001, 4, 25))
    assert delicious.csv_date("25/4/2001") == (2001, date(2001, 4, 25))
    assert delicious.csv_date("1982") == (1982, None)
    assert delicious.csv_date("soon") == (None, None)


def test_rtf_descriptions_become_plain_text():
    rtf = (
        "{\\rtf1\\ansi\\ansicpg1252\\cocoartf1038\n{\\fonttbl\\f0\\fswiss Helvetica;}\n"
        "{\\colortbl;\\red255\\green255\\blue255;}{\\*\\expandedcolortbl;;}\n"
        "\\pard\\f0\\fs24 \\cf0 Caf\\'e9 \\{braces\\} and a back\\\\slash\\par\n"
        "Second\\tab line \\uc0\\u8217 quoted\\u8217 \\uc1\\u8212?end}"
    )
    assert delicious.rtf_to_text(rtf) == (
        "Caf\u00e9 {braces} and a back\\slash\nSecond\tline \u2019quoted\u2019\u2014end"
    )
    assert delicious.rtf_to_text("{\\rtf1\\mac\\ansicpg10000 It\\'d5s\\'caok}") == "It\u2019s\xa0ok"
    assert delicious.rtf_to_text("  plain text  ") == "plain text"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DVD", "DVD"), ("Blu-ray", "Blu-ray"), ("4K Ultra HD + Blu-ray", "4K UHD"),
        ("UHD", "4K UHD"), ("HD DVD", "Other"), ("VHS Tape", "VHS"), ("LaserDisc", "LaserDisc"),
        ("Kindle Edition", "Digital"), ("Amazon Instant Video download", "Digital"),
        ("Audio CD\nSoundtrack", "Other"), ("DVD\nWidescreen", "DVD"), ("", None),
    ],
)  # fmt: skip
def test_formats(text, expected):
    assert delicious.map_format(text) == expected


@pytest.mark.parametrize(
    ("raw", "edition", "title", "edition_out"),
    [
        ("Heat [Blu-ray]", "", "Heat", ""),
        ("Heat (Special Edition)", "", "Heat", "Special Edition"),
        ("Blade Runner: The Final Cut [Blu-ray]", "The Final Cut", "Blade Runner", "The Final Cut"),
        ("Alien (The Director's Cut) [DVD]", "", "Alien", "The Director's Cut"),
        ("Nosferatu (1922)", "", "Nosferatu (1922)", ""),
        ("(500) Days of Summer", "", "(500) Days of Summer", ""),
        ("Mission: Impossible", "", "Mission: Impossible", ""),
        ("Heat - Director's Definitive Edition", "Director's Definitive", "Heat",
         "Director's Definitive"),
    ],
)  # fmt: skip
def test_title_clean_up(raw, edition, title, edition_out):
    assert delicious.clean_title(raw, edition) == (title, edition_out)


@pytest.mark.parametrize(
    ("raw", "series", "season"),
    [
        ("Breaking Bad - The Complete First Season", "Breaking Bad", 1),
        ("Firefly - The Complete Series", "Firefly", None),
        ("Star Trek: The Next Generation - The Complete Third Season",
         "Star Trek: The Next Generation", 3),
        ("Doctor Who: Series 4", "Doctor Who", 4),
        ("Friends Season 10", "Friends", 10),
        ("The Wire: The Complete Season Two", "The Wire", 2),
    ],
)  # fmt: skip
def test_tv_sets_filed_as_movies(raw, series, season):
    assert delicious.is_tv(raw, [])
    assert delicious.series_title(raw) == series
    assert delicious.season_number(raw) == season


def test_people_identifiers_and_ratings():
    assert delicious.csv_people("Lana Wachowski, Lilly Wachowski") == [
        "Lana Wachowski",
        "Lilly Wachowski",
    ]
    assert delicious.csv_people("Vangelis") == ["Vangelis"]
    assert delicious.csv_people("Sammy Davis, Jr.") == ["Sammy Davis, Jr."]
    assert delicious.csv_people("Joel Coen; Ethan Coen") == ["Joel Coen", "Ethan Coen"]
    assert delicious.composite_people("Jazz Cool Jazz Modern Postbebop") == []
    assert delicious.composite_genres("Jazz Cool Jazz Modern Postbebop") == []
    assert delicious.gtin("0-24543-10457-5") == "0024543104575"
    assert delicious.gtin("0 85765 41223 7") == "0085765412237"
    assert delicious.gtin("9780767821827") == "9780767821827"
    assert delicious.gtin("n/a") is None
    assert delicious.isbn("0-441-17271-7") == "0441172717"
    assert delicious.stars_to_ten(4.8000001907348633) == 9.6
    assert delicious.stars_to_ten(0.0) is None
    assert delicious.owner_rating("0") is None and delicious.owner_rating("4.5") == 9.0
    assert delicious.owner_rating(8) == 8 and delicious.owner_rating("great") == "great"
    assert delicious.tmdb_genres(["Science Fiction & Fantasy", "Television"], "tv_series") == [
        "Sci-Fi & Fantasy"
    ]
    assert delicious.split_platform("Halo 3 (Xbox 360)") == ("Halo 3", "Xbox 360")
    assert delicious.split_platform("Heat - Part 2") == ("Heat - Part 2", "")
