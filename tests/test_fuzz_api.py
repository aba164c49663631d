"""Property-based fuzzing of every documented endpoint, from the app's own OpenAPI document.

Fails on any 5xx, on a response whose content type is not the documented one, and on an
endpoint that answers without the authentication it documents. New APIs are covered as soon as
they are registered (and documented, which test_openapi requires).
"""

from __future__ import annotations

import pytest
import schemathesis

from tests.conftest import jwt_login

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 20},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "ignored_auth": {"enabled": True},
            "content_type_conformance": {"enabled": True},
        },
    }
)


@pytest.fixture(scope="module")
def fuzz_headers(app):
    return jwt_login(app.test_client())


@pytest.fixture(scope="module")
def api_schema(app, fuzz_headers):
    return schemathesis.openapi.from_wsgi(
        "/api/v1/_openapi", app, config=CONFIG, headers=fuzz_headers
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_never_fails_on_generated_input(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers)
