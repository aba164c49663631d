"""CSV imports as jobs: template, row validation, dedupe, reports, bad files, jobs and their
permissions, a dead worker, and two imports of one file at the same time."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.activity import ActivityEntry
from app.models.base import utcnow
from app.models.imports import MediaIdentifier, SyncJob, SyncJobRow
from app.models.media import Media, MediaPerson
from tests.concurrent_imports import counts, imported_twice_at_once
from tests.factories import household, join, signed_in

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
HEADER = "title,media_type,year,format,director,genre,cast,rating,user_rating,runtime,upc,imdb_id,tmdb_id,season_number,location,notes\n"  # noqa: E501


@pytest.fixture
def home(app):
    return household(app)


def _import(member, data: bytes, name: str = "items.csv", query: str = ""):
    return member.upload(f"/api/media/import-csv{query}", data, name)


def _ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["result"]


def _count(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Media)
        for key, value in where.items():
            query = query.where(getattr(Media, key) == value)
        return db.session.scalar(query)


def test_the_template_imports_cleanly(app, home):
    response = home.owner.get("/api/media/import/template-csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == HEADER.strip().replace("director,genre", "directors,genres").split(",")
    result = _ok(_import(home.owner, response.data))
    assert result["summary"] == {"total": 1, "created": 1, "updated": 0, "skipped": 0, "failed": 0}
    item = home.owner.get(f"/api/media/{result['rows'][0]['media_id']}").json["result"]
    assert item["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert item["import_source"] == "csv_generic" and item["added_by"] == home.owner.user_id


def test_valid_file_imports_every_row_and_a_second_import_creates_nothing(app, home):
    data = (FIXTURES / "generic_valid.csv").read_bytes()
    first = _ok(_import(home.owner, data))
    assert first["summary"]["created"] == 10 and first["summary"]["failed"] == 0
    assert _count(app, space_id=home.space_id) == 10
    by_title = {r["title"]: r for r in first["rows"]}
    heat = home.owner.get(f"/api/media/{by_title['Heat']['media_id']}").json["result"]
    assert "\n" in heat["notes"]  # a multi-line cell
    assert "Good Night, and Good Luck." in by_title
    matrix = home.owner.get(f"/api/media/{by_title['The Matrix']['media_id']}").json["result"]
    assert matrix["upc"] == "085765397015"  # leading zero kept
    assert matrix["rating"] == 8.2 and matrix["tmdb_id"] == 603

    second = _ok(_import(home.owner, data))
    assert second["summary"]["created"] == 0
    assert second["summary"]["skipped"] == 10
    assert {r["matched_by"] for r in second["rows"]} <= {"upc", "imdb_id", "tmdb_id",
                                                         "title_year_type"}  # fmt: skip
    assert _count(app, space_id=home.space_id) == 10


def test_bad_rows_are_reported_with_their_number_and_the_rest_import(app, home):
    data = (FIXTURES / "generic_mixed.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    result = _ok(_import(home.owner, data))
    assert result["summary"] == {"total": 10, "created": 8, "updated": 0, "skipped": 0, "failed": 2}
    failed = {r["row"]: r for r in result["rows"] if r["status"] == "failed"}
    assert set(failed) == {3, 5}
    assert "title" in failed[3]["detail"]
    assert failed[5]["title"] == "Das Boot" and "year" in failed[5]["detail"]
    first = result["rows"][0]
    assert first["row"] == 2 and first["title"] == "Inception"  # the BOM did not eat "title"
    titles = {r["title"] for r in result["rows"] if r["status"] == "created"}
    assert "Crouching Tiger, Hidden Dragon" in titles and "Der Himmel über Berlin" in titles


def test_identifier_first_dedupe_and_fill_only_what_is_missing(app, home):
    made = home.owner.post(
        "/api/media", json={"title": "Heat", "year": 1995, "upc": "024543104575", "notes": "Mine"}
    )
    assert made.status_code == 201
    data = (
        HEADER
        + "Heat (Special Edition),movie,1995,DVD,Michael Mann,Crime,,8.3,,170,"
        + "024543104575,,,,,Theirs\n"
        + "Heat,movie,1995,Blu-ray,,,,,,,999999999993,,,,,\n"  # another UPC: another copy
        + "Nosferatu,movie,1922,DVD,,,,,,,,,,,,\n"
        + "nosferatu,movie,,VHS,,,,,,,,,,,,\n"  # same title, no year: matches
    ).encode()
    rows = _ok(_import(home.owner, data))["rows"]
    assert [r["status"] for r in rows] == ["updated", "created", "created", "skipped"]
    assert rows[0]["matched_by"] == "upc" and rows[0]["media_id"] == made.json["id"]
    assert rows[3]["matched_by"] == "title_year_type"
    heat = home.owner.get(f"/api/media/{made.json['id']}").json["result"]
    assert heat["title"] == "Heat" and heat["notes"] == "Mine"  # never overwritten
    assert heat["runtime"] == 170 and heat["directors"] == ["Michael Mann"]  # filled


def test_quoting_and_formula_titles(app, home):
    data = (
        HEADER + '"=HYPERLINK(""http://x"")",movie,2001,,,,,,,,,,,,,"line one\nline ""two"""\n'
    ).encode()
    rows = _ok(_import(home.owner, data))["rows"]
    item = home.owner.get(f"/api/media/{rows[0]['media_id']}").json["result"]
    assert item["title"] == '=HYPERLINK("http://x")'  # stored exactly as given
    assert item["notes"] == 'line one\nline "two"'
    job_id = _import(home.owner, data).json["id"]
    report = home.owner.get(f"/api/sync-jobs/{job_id}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.get_data(as_text=True))))
    assert lines[0][:4] == ["row", "source_key", "title", "status"]
    assert lines[1][2] == '\'=HYPERLINK("http://x")'  # escaped only in the report


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 400, "empty"),
        (b"   \n\n", 400, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", 400, "binary"),
        (b"title\n" + b"Heat\n" * 20000 + b"He\x00at\n", 400, "binary"),  # NUL past 64 KB
        ("title,year\nCaf\xe9,2001\n".encode("latin-1"), 400, "UTF-8"),
        (b"name,year\nHeat,1995\n", 400, "title column"),
    ],
)
def test_unusable_files_are_refused_and_nothing_is_stored(app, home, data, status, words):
    response = _import(home.owner, data)
    assert response.status_code == status, response.json
    assert response.json["code"] == "validation_failed"
    assert words in str(response.json["message"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SyncJob)) == 0
    assert _count(app) == 0


def test_a_file_name_with_a_nul_is_stored_without_it(app, home):
    response = _import(home.owner, b"title\nHeat\n", "my\x00films.csv")
    assert response.status_code == 200, response.json
    with app.app_context():
        assert db.session.scalar(select(SyncJob.file_name)) == "myfilms.csv"


def test_a_file_too_large_is_413(app, home):
    big = HEADER.encode() + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = _import(home.owner, big)
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_missing_file_field_is_400(app, home):
    response = home.owner.client.post(
        "/api/media/import-csv", data={"other": "x"}, headers=home.owner.csrf,
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 400 and "file" in response.json["message"]


def test_async_import_answers_202_and_the_job_reports_progress(app, home):
    data = (FIXTURES / "generic_valid.csv").read_bytes()
    response = _import(home.owner, data, query="?async=true")
    assert response.status_code == 202, response.json
    assert response.headers["Location"] == f"/api/sync-jobs/{response.json['id']}"
    job = home.owner.get(f"/api/sync-jobs/{response.json['id']}").json["result"]
    assert job["status"] == "succeeded"  # the test queue runs tasks at once
    assert job["progress"] == {"done": 10, "total": 10}
    assert job["summary"]["created"] == 10 and job["provider"] == "csv_generic"
    assert job["started_at"] and job["finished_at"]
    rows = home.owner.get(f"/api/sync-jobs/{job['id']}/rows?limit=3&offset=2").json
    assert rows["count"] == 10 and [r["row"] for r in rows["result"]] == [4, 5, 6]
    for query, count, numbers in (
        ("limit=3&offset=8", 10, [10, 11]),  # the last page
        ("limit=3&offset=12", 10, []),  # past the end
        ("limit=20", 10, list(range(2, 12))),  # all on one page
        ("limit=3&status=failed", 0, []),
    ):
        page = home.owner.get(f"/api/sync-jobs/{job['id']}/rows?{query}").json
        assert (page["count"], [r["row"] for r in page["result"]]) == (count, numbers), query
    listed = home.owner.get("/api/sync-jobs?status=succeeded").json
    assert [j["id"] for j in listed["result"]] == [job["id"]]
    assert listed["count"] == 1
    assert home.owner.get("/api/sync-jobs?status=failed").json["count"] == 0
    with app.app_context():
        actions = list(db.session.scalars(select(ActivityEntry.action).where(
            ActivityEntry.entity_type == "sync_job")))  # fmt: skip
    assert actions.count("import.started") == 1 and actions.count("import.finished") == 1


def test_large_files_always_run_as_jobs(app, home):
    lines = [f"Film {i},movie,{1950 + i % 70},,,,,,,,,,,,," for i in range(600)]
    response = _import(home.owner, (HEADER + "\n".join(lines) + "\n").encode())
    assert response.status_code == 202
    assert _count(app, space_id=home.space_id) == 600


def test_who_may_import_and_see_jobs(app, home):
    viewer = join(app, home, "vic@example.test", "viewer")
    member = join(app, home, "mel@example.test", "member")
    data = (FIXTURES / "generic_valid.csv").read_bytes()
    refused = _import(viewer, data)
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    job_id = _import(member, data).json["id"]
    assert home.owner.get(f"/api/sync-jobs/{job_id}").status_code == 200  # space admin
    assert viewer.get(f"/api/sync-jobs/{job_id}").status_code == 404  # not theirs
    stranger = signed_in(app, "sam@example.test")
    for url in (f"/api/sync-jobs/{job_id}", f"/api/sync-jobs/{job_id}/rows",
                f"/api/sync-jobs/{job_id}/report.csv"):  # fmt: skip
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/api/sync-jobs/{job_id}/retry").status_code == 404
    assert stranger.get("/api/sync-jobs").json["count"] == 0
    other = household(app, "otto@example.test", "Elsewhere")
    response = _import(other.owner, data, query=f"?library_id={home.library_id}")
    assert response.status_code == 404
    unusable = _import(other.owner, b"", query=f"?library_id={home.library_id}")
    assert unusable.status_code == 404  # the library is checked before the file is read


def test_a_job_whose_worker_died_is_failed_and_running_it_again_resumes(app, home):
    from app.services import imports

    data = (FIXTURES / "generic_valid.csv").read_bytes()
    first = _import(home.owner, data).json["id"]
    with app.app_context():
        job = db.session.get(SyncJob, first)
        owner = job.created_by
        # A second import whose worker died after saving its first rows.
        scope_job = SyncJob(space_id=job.space_id, library_id=job.library_id, created_by=owner,
                            provider="csv_generic", status="running",
                            heartbeat_at=utcnow() - timedelta(minutes=30))  # fmt: skip
        db.session.add(scope_job)
        db.session.flush()
        from app.models.imports import SyncJobInput

        db.session.add(SyncJobInput(job_id=scope_job.id, data=data))
        db.session.add(SyncJobRow(job_id=scope_job.id, row=2, status="skipped", title="The Matrix"))
        db.session.commit()
        dead = scope_job.id
        assert imports.fail_stalled_jobs(timedelta(minutes=10)) == 1
        failed = db.session.get(SyncJob, dead)
        assert failed.status == "failed" and "worker stopped" in failed.error
    again = home.owner.post(f"/api/sync-jobs/{dead}/retry")
    assert again.status_code == 202, again.json
    job = home.owner.get(f"/api/sync-jobs/{dead}").json["result"]
    assert job["status"] == "succeeded" and job["summary"]["total"] == 10
    assert job["summary"]["created"] == 0  # the same end state: nothing twice
    assert _count(app, space_id=home.space_id) == 10
    assert home.owner.post(f"/api/sync-jobs/{dead}/retry").status_code == 400  # not failed


def test_running_a_job_again_needs_the_right_to_start_it(app, home):
    member = join(app, home, "mel@example.test", "member")
    data = (HEADER + "Heat,movie,1995,,,,,,,,,,,,,\n").encode()
    job_id = _import(member, data).json["id"]
    with app.app_context():
        db.session.get(SyncJob, job_id).status = "failed"
        db.session.commit()
    demoted = home.owner.patch(
        f"/api/spaces/{home.space_id}/members/{member.user_id}", json={"role": "viewer"}
    )
    assert demoted.status_code == 200, demoted.json
    refused = member.post(f"/api/sync-jobs/{job_id}/retry")
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert home.owner.post(f"/api/sync-jobs/{job_id}/retry").status_code == 202  # space admin


@pytest.mark.no_db_transaction
def test_two_imports_of_one_file_at_the_same_time_create_each_item_once(make_app):
    rows = [f"Film {i},movie,{1950 + i % 70},DVD,Director {i % 7},Drama,,,,,"
            f"{100000000000 + i if i % 2 else ''},,,,," for i in range(300)]  # fmt: skip
    data = (HEADER + "\n".join(rows) + "\n").encode()
    with imported_twice_at_once(make_app, "csv_generic", data) as app:
        assert counts(app) == (300, 300)  # each item once, created by one job or the other
        with app.app_context():
            people = select(func.count(func.distinct(MediaPerson.person_id)))
            assert db.session.scalar(people) == 7
            identities = select(func.count()).select_from(MediaIdentifier)
            assert db.session.scalar(identities) >= 300
            db.session.remove()


def test_a_merged_item_is_not_imported_again_and_undo_gives_its_identity_back(app, home):
    data = (
        HEADER
        + "Heat,movie,1995,DVD,,,,,,,024543104575,,,,,\n"
        + "Heat,movie,1995,Blu-ray,,,,,,,883929106844,,,,,\n"
    ).encode()
    rows = _ok(_import(home.owner, data))["rows"]
    keep, twin = rows[0]["media_id"], rows[1]["media_id"]
    assert keep != twin
    merged = home.owner.post("/api/media/merge", json={"keep_id": keep, "merge_ids": [twin]})
    assert merged.status_code == 200, merged.json
    again = _ok(_import(home.owner, data))
    assert again["summary"]["created"] == 0
    assert {r["media_id"] for r in again["rows"]} == {keep}
    undone = home.owner.post(f"/api/media/merges/{merged.json['merge_id']}/undo")
    assert undone.status_code == 200, undone.json
    third = _ok(_import(home.owner, data))
    assert third["summary"]["created"] == 0
    assert [r["media_id"] for r in third["rows"]] == [keep, twin]


def test_enrichment_fills_rows_from_tmdb_and_reports_each_outcome(app, home, fake_tmdb):
    from tests.fakes import tmdb as fake_tmdb_data

    home.owner.put(
        "/api/admin/settings/integrations",
        json={"tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": fake_tmdb_data.API_KEY},
    )
    data = (HEADER + "Blade Runner,movie,1982,Blu-ray,,,,,,,,,,,Shelf A,\n"
            "Zzqx Nothing Like It,movie,2001,DVD,,,,,,,,,,,,\n").encode()  # fmt: skip
    rows = _ok(_import(home.owner, data, query="?enrich=true"))["rows"]
    assert [r["enrichment"] for r in rows] == ["enriched", "no_match"]
    assert "TMDB movie 78" in rows[0]["enrichment_detail"]
    item = home.owner.get(f"/api/media/{rows[0]['media_id']}").json["result"]
    assert item["directors"] == ["Ridley Scott"] and item["runtime"] == 117
    assert item["tmdb_id"] == 78 and item["format"] == "Blu-ray" and item["location"] == "Shelf A"

    fake_tmdb.fail_next(20, 500)
    failed = _ok(_import(home.owner, data.replace(b"Blade", b"Blede"), query="?enrich=true"))
    assert failed["rows"][0]["enrichment"] == "failed"
    assert "TMDB" in failed["rows"][0]["enrichment_detail"]
    assert failed["summary"]["failed"] == 0  # the rows still import

    without = household(app, "bea@example.test", "Bare")
    bare = _ok(_import(without.owner, data, query="?enrich=true"))["rows"]
    assert bare[0]["enrichment"] == "failed" and "not set up" in bare[0]["enrichment_detail"]
    plain = _ok(_import(without.owner, data))["rows"]
    assert {r["enrichment"] for r in plain} == {"not_attempted"}
