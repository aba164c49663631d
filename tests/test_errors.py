"""Errors: one JSON shape for /api, friendly pages for browsers, never a 500 for bad input."""

from __future__ import annotations

import json
import logging

import pytest


def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.json == {
        "message": "No such endpoint: GET /api/no-such-thing",
        "code": "not_found",
    }


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert response.json["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("body", ["{bad", '{"a": }', "[1, 2", "\xff\xfe"])
def test_malformed_json_is_a_400_malformed_request(client, body):
    response = client.post("/api/health", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == "malformed_request"


def test_body_over_max_upload_is_a_413(make_app):
    app = make_app(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=1024 * 1024)
    response = app.test_client().post(
        "/api/health", data=b"x" * (1024 * 1024 + 1), content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_nul_characters_are_rejected_with_a_400(client):
    response = client.post("/api/health", json={"title": "a\u0000b"})
    assert response.status_code == 400
    assert response.json["code"] == "validation_failed"
    response = client.get("/api/health?q=a%00b")
    assert response.status_code == 400


def test_unexpected_exception_is_a_json_500_without_internals(make_app, caplog):
    app = make_app()

    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/api/test-boom", "test_boom", boom)
    with caplog.at_level(logging.ERROR, logger="boxset.errors"):
        response = app.test_client().get("/api/test-boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    body = response.json
    assert body["code"] == "internal_error"
    assert body["request_id"] == "req-42"
    assert "hunter2" not in json.dumps(body) and "RuntimeError" not in json.dumps(body)
    assert any("req-42" in r.getMessage() and r.exc_info for r in caplog.records)


def test_unexpected_exception_on_a_page_is_a_friendly_page(make_app):
    app = make_app()

    def boom():
        raise RuntimeError("nope")

    app.add_url_rule("/test-boom", "test_boom_page", boom)
    response = app.test_client().get("/test-boom")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "nope" not in page


def test_unknown_page_is_a_friendly_html_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("session_id", ["99999999999999999999", "2147483648"])
def test_huge_ids_in_paths_are_404_not_500(client, admin_headers, session_id):
    response = client.delete(f"/api/auth/sessions/{session_id}", headers=admin_headers)
    assert response.status_code == 404
    assert response.json == {"message": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("depth", [65, 600, 5000])
def test_deeply_nested_json_is_a_400(client, depth):
    body = "[" * depth + "]" * depth
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == "malformed_request"


def test_nul_in_any_repeated_query_value_or_key_is_rejected(client):
    assert client.get("/api/health?x=a&x=%00").status_code == 400
    assert client.get("/api/health?%00=a").status_code == 400


def test_non_json_content_type_on_a_json_endpoint_is_400(client):
    response = client.post("/api/auth/login", data="email=a", content_type="text/plain")
    assert response.status_code == 400
    assert response.json["code"] == "malformed_request"


def test_doubled_slashes_and_options_under_api_stay_json(client):
    response = client.get("/api//health")
    assert response.status_code == 404 and response.is_json
    response = client.options("/api/health")
    assert response.status_code == 204 and response.data == b""
    assert "GET" in response.headers["Allow"]


def test_bad_bearer_token_is_401_not_422(client):
    response = client.get("/api/v1/_openapi", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"


def test_frameworks_own_errors_get_our_code(client):
    response = client.get("/api/v1/menu/")  # Flask-AppBuilder's own API answers this 401
    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"
    assert "message" in response.json


def test_jwt_login_of_the_framework_is_not_exposed(client):
    assert client.post("/api/v1/security/login", json={}).status_code == 404
