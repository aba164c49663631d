"""Property-based fuzzing of every documented endpoint, from the app's own OpenAPI document.

Fails on any 5xx, on a response whose content type is not the documented one, and on an
endpoint that answers without the authentication it documents. New APIs are covered as soon as
they are registered (and documented, which test_openapi requires).
"""

from __future__ import annotations

import pytest
import schemathesis

from tests.conftest import api_key_headers

CONFIG = schemathesis.Config.from_dict(
    {
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
)


@pytest.fixture(scope="module")
def fuzz_headers(app):
    return api_key_headers(app)


@pytest.fixture(scope="module")
def api_schema(app, fuzz_headers):
    return schemathesis.openapi.from_wsgi(
        "/api/v1/_openapi", app, config=CONFIG, headers=fuzz_headers
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_never_fails_on_generated_input(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers)
