"""Request plumbing: request ids, one log line per request, security headers, proxies, CSRF."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import form_login


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def request_log():
    handler = _Records()
    logger = logging.getLogger("boxset.request")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def test_every_response_carries_a_request_id(client):
    first = client.get("/api/health").headers["X-Request-ID"]
    second = client.get("/login/").headers["X-Request-ID"]
    assert first and second and first != second


def test_a_client_request_id_is_echoed(client):
    response = client.get("/api/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_an_unsafe_client_request_id_is_replaced(client):
    response = client.get("/api/health", headers={"X-Request-ID": "bad id <script>"})
    assert response.headers["X-Request-ID"] != "bad id <script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_one_log_line_per_request_with_its_fields(client, request_log):
    # buffered: the test client then closes the response, as a WSGI server does
    client.get(
        "/api/health?api_key=should-not-be-logged", headers={"X-Request-ID": "rid-1"}, buffered=True
    )
    client.get("/api/nope", headers={"X-Request-ID": "rid-2"}, buffered=True)
    fields = [r.fields for r in request_log]
    assert [(f["method"], f["path"], f["status"], f["request_id"]) for f in fields] == [
        ("GET", "/api/health", 200, "rid-1"),
        ("GET", "/api/nope", 404, "rid-2"),
    ]
    assert all(isinstance(f["duration_ms"], float) for f in fields)
    assert "should-not-be-logged" not in " ".join(r.getMessage() for r in request_log)


def test_the_log_line_names_the_signed_in_user(client, app, request_log):
    form_login(client)
    client.get("/", buffered=True)
    with app.app_context():
        admin_id = app.appbuilder.sm.find_user(username="admin").id
    assert request_log[-1].fields["user_id"] == admin_id


@pytest.mark.parametrize("path", ["/api/health", "/login/", "/api/nope", "/no/page"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_pages_scripts_carry_the_csp_nonce(client):
    response = client.get("/login/")
    csp = response.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    page = response.get_data(as_text=True)
    assert page.count("<script") == page.count(f'nonce="{nonce}"')


def test_trust_proxy_uses_forwarded_client_address(make_app):
    seen = {}

    def whoami():
        from flask import request

        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return {"ok": True}

    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = make_app(TRUST_PROXY=hops)
        app.add_url_rule("/api/test-whoami", "whoami", whoami)
        app.test_client().get(
            "/api/test-whoami",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert seen["addr"] == expected
        assert seen["scheme"] == ("https" if hops else "http")


def test_cookie_authenticated_api_write_without_csrf_token_is_403(client):
    assert form_login(client).status_code == 302
    response = client.post("/api/nope", json={})
    assert response.status_code == 403
    assert response.json["code"] == "csrf_failed"


def test_cookie_authenticated_api_write_with_csrf_token_passes_the_check(client):
    form_login(client)
    token = client.get("/api/auth/csrf-token").json["csrf_token"]
    response = client.post("/api/nope", json={}, headers={"X-CSRF-Token": token})
    assert response.status_code == 404


def test_api_key_write_needs_no_csrf_token_even_with_a_session_cookie(client, admin_headers):
    form_login(client)  # a cookie session too: the bearer key, not the cookie, authenticates
    response = client.post("/api/auth/logout", headers=admin_headers)
    assert response.status_code == 204


def test_a_junk_authorization_header_does_not_fall_back_to_the_cookie(client):
    form_login(client)
    response = client.post("/api/auth/logout", headers={"Authorization": "Basic junk"})
    assert response.status_code == 401
    assert client.get("/api/auth/me").status_code == 200  # still signed in


def test_login_form_requires_its_csrf_token(client):
    response = client.post("/login/", data={"username": "admin", "password": "x"})
    assert response.status_code in (400, 403)


def test_session_cookie_is_httponly_and_samesite_strict(client):
    response = form_login(client)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("boxset_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
