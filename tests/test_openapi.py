"""The OpenAPI document and Swagger UI: on, for signed-in users, listing our endpoints."""

from __future__ import annotations

from tests.conftest import form_login


def test_openapi_document_needs_sign_in(client):
    assert client.get("/api/v1/_openapi").status_code == 401


def test_openapi_document_lists_our_endpoints(client, admin_headers):
    response = client.get("/api/v1/_openapi", headers=admin_headers)
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert "get" in spec["paths"]["/api/health"]
    assert "get" in spec["paths"]["/api/auth/csrf-token"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("responses"), f"{method.upper()} {path} is undocumented"


def test_swagger_ui_is_served_to_signed_in_users(client):
    form_login(client)
    response = client.get("/swagger/v1")
    assert response.status_code == 200
    assert "swagger-ui" in response.get_data(as_text=True)


def test_signed_in_endpoints_document_their_security(client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).json
    public = {
        ("get", "/api/health"),
        ("get", "/api/auth/csrf-token"),
        ("post", "/api/auth/register"),
        ("post", "/api/auth/login"),
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if (method, path) in public:
                assert operation.get("security") == [], f"{method} {path}"
            else:
                assert operation.get("security"), f"{method.upper()} {path} documents no security"
