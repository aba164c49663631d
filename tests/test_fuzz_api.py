"""Property-based fuzzing of every documented endpoint, from the app's own OpenAPI document.

Fails on any 5xx, on a response whose content type is not the documented one, on an endpoint
that answers without the authentication it documents, and (for Boxset's own endpoints) on a
response that does not match its documented schema. The caller owns a household with an item,
and path parameters point at it, so the handlers run past their 404s. New APIs are covered as
soon as they are registered (and documented, which test_openapi requires).
"""

from __future__ import annotations

import pytest
import schemathesis

from tests.conftest import api_key_headers
from tests.factories import create_space

BASE_CONFIG = {
    "seed": 20261126,  # reproducible runs; no example database carried between runs
    "generation": {"max-examples": 20, "database": "none"},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "ignored_auth": {"enabled": True},
        "content_type_conformance": {"enabled": True},
    },
    "operations": [
        {
            # Our own endpoints must also answer what their documented schemas say.
            "include-path-regex": "^/api/(?!v1/)",
            "checks": {"response_schema_conformance": {"enabled": True}},
        }
    ],
}


@pytest.fixture
def fuzz_world(app, fake_tmdb, fake_barcode, fake_ocr, fake_plex):
    """The admin's household with a TV series in it (a merge into it, for the undo; an import
    job), its integrations pointing at the local fakes, inside the test's rolled-back
    transaction."""
    from app.extensions import db
    from app.models.accounts import BoxsetUser
    from app.services import imports, integrations, media, merge, tenancy
    from app.services.context import NO_REQUEST
    from tests.fakes import ocr, plex, tmdb

    with app.app_context():
        admin_id = app.appbuilder.sm.find_user(username="admin").id
    space_id, library_id = create_space(app, admin_id, "Fuzz house")
    with app.app_context():
        admin = db.session.get(BoxsetUser, admin_id)
        scope = tenancy.resolve_scope(admin, space_id=space_id)
        item = media.create_media(
            scope, {"title": "Fuzzed series", "media_type": "tv_series"}, NO_REQUEST
        )
        media_id = item.id
        # DELETE gets an item of its own, so the others keep one to work on.
        doomed_id = media.create_media(scope, {"title": "Doomed"}, NO_REQUEST).id
        twin = media.create_media(
            scope, {"title": "Fuzzed series", "media_type": "tv_series"}, NO_REQUEST
        )
        _kept, record = merge.merge_media(scope, media_id, [twin.id], NO_REQUEST)
        merge_id = record.id
        integrations.update_settings(
            scope,
            {
                "tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": tmdb.API_KEY,
                "barcode_api_url": fake_barcode.upcitemdb_url,
                "vision_api_url": fake_ocr.base_url, "vision_api_key": ocr.API_KEY,
                "plex_api_url": fake_plex.base_url, "plex_api_token": plex.TOKEN,
                "plex_sections": [{"key": "2", "title": "TV Shows", "type": "show"}],
            },
            NO_REQUEST,
        )  # fmt: skip
        job_id = imports.start_job(
            scope, "csv_generic", data=b"title\nFuzzed film\n", file_name="f.csv",
            options={}, library_id=None, info=NO_REQUEST,
        )  # fmt: skip
        imports.run_job(job_id)
    return {
        "headers": api_key_headers(app),
        "parameters": {
            "path.media_id": media_id,
            "path.space_id": space_id,
            "path.library_id": library_id,
            "path.user_id": admin_id,
            "path.merge_id": merge_id,
            "path.job_id": job_id,
        },
        "doomed_id": doomed_id,
    }


@pytest.fixture
def api_schema(app, fuzz_world):
    operations = [
        *BASE_CONFIG["operations"],
        {
            "include-name": "DELETE /api/media/{media_id}",
            "parameters": {"path.media_id": fuzz_world["doomed_id"]},
        },
    ]
    config = schemathesis.Config.from_dict(
        {**BASE_CONFIG, "operations": operations, "parameters": fuzz_world["parameters"]}
    )
    return schemathesis.openapi.from_wsgi(
        "/api/v1/_openapi", app, config=config, headers=fuzz_world["headers"]
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_never_fails_on_generated_input(case, fuzz_world):
    case.call_and_validate(headers=fuzz_world["headers"])
