"""Every /api route, found by walking the URL map, refuses anonymous callers (401) unless it is
public by the allow-list below, and answers 404 for another household's things. A new route is
covered the moment it is registered."""

from __future__ import annotations

import io
import re

import pytest

from tests.factories import create_invite, household, signed_in

PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/api/auth/csrf-token"),
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
}
# Routes about the caller's own account (no space involved), or that only list/create what is
# the caller's own: they cannot reach another household's things.
OWN_ONLY = {
    ("GET", "/api/auth/me"),
    ("PATCH", "/api/auth/profile"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/auth/sessions"),
    ("GET", "/api/auth/api-keys"),
    ("POST", "/api/auth/api-keys"),
    ("GET", "/api/spaces"),
    ("POST", "/api/spaces"),
    ("POST", "/api/libraries/select"),  # body-addressed: covered in test_spaces
    ("POST", "/api/auth/invites/accept"),  # addressed by a secret token: covered in test_auth
    ("GET", "/api/media/import/template-csv"),  # the same file for everyone
    ("GET", "/api/sync-jobs"),  # lists only jobs the caller may see: covered in test_imports
}
# Instance-wide settings, not household data: non-Admins get 403 (covered in test_flags).
INSTANCE_ONLY = {
    ("GET", "/api/admin/feature-flags"),
    ("PATCH", "/api/admin/feature-flags/<key>"),
}
SKIP_METHODS = {"HEAD", "OPTIONS"}
# Path arguments that name no household data (a TMDB id, a provider): the space comes from
# ?space_id= on those routes.
SPACE_FROM_QUERY = {"tmdb_id", "provider"}


def _api_routes(app) -> list[tuple[str, str, list[str]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            routes.append((method, rule.rule, sorted(rule.arguments)))
    return routes


def _framework_route(rule: str) -> bool:
    """Flask-AppBuilder's own APIs (menu, OpenAPI document): no household data behind them."""
    return rule.startswith("/api/v1/") or rule.startswith("/api/<version>/")


def _fill(rule: str, values: dict[str, object]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule)


def test_the_walk_finds_the_api(app):
    routes = {(m, r) for m, r, _ in _api_routes(app)}
    assert ("GET", "/api/admin/activity") in routes
    assert ("DELETE", "/api/libraries/<int:library_id>") in routes
    assert routes >= PUBLIC and routes >= OWN_ONLY


def test_every_api_route_needs_sign_in_unless_public(app):
    client = app.test_client()
    for method, rule, args in _api_routes(app):
        if (method, rule) in PUBLIC:
            continue
        url = _fill(rule, dict.fromkeys(args, 1))
        response = client.open(url, method=method, json={})
        assert response.status_code == 401, f"{method} {rule} answered {response.status_code}"
        assert response.json["code"] == "not_authenticated", f"{method} {rule}"


@pytest.fixture
def other_household(app):
    """Everything the walk can address, all in a household the caller is not in."""
    home = household(app, "owner@example.test", "Theirs")
    _invite_id, _token = create_invite(app, home.space_id, home.owner.user_id)
    invite_id = _invite_id
    key = home.owner.post("/api/auth/api-keys", json={"name": "theirs"}).json["id"]
    session_id = home.owner.get("/api/auth/sessions").json["result"][0]["id"]
    media_id = home.owner.post("/api/media", json={"title": "Theirs"}).json["id"]
    twin_id = home.owner.post("/api/media", json={"title": "Theirs"}).json["id"]
    merged = home.owner.post("/api/media/merge", json={"keep_id": media_id, "merge_ids": [twin_id]})
    job = home.owner.client.post(
        "/api/media/import-csv", data={"file": (io.BytesIO(b"title\nTheirs too\n"), "t.csv")},
        headers=home.owner.csrf, content_type="multipart/form-data",
    )  # fmt: skip
    return {
        "job_id": job.json["id"],
        "tmdb_id": 78,  # not household data: these routes take the space from ?space_id=
        "provider": "tmdb",
        "merge_id": merged.json["merge_id"],
        "media_id": media_id,
        "space_id": home.space_id,
        "library_id": home.library_id,
        "user_id": home.owner.user_id,
        "invite_id": invite_id,
        "key_id": key,
        "session_id": session_id,
    }


def test_another_households_things_are_404_on_every_route(app, other_household):
    caller = signed_in(app, "nosy@example.test")
    caller.post("/api/spaces", json={"name": "Mine"})
    checked = 0
    for method, rule, args in _api_routes(app):
        if (method, rule) in PUBLIC | OWN_ONLY | INSTANCE_ONLY or _framework_route(rule):
            continue
        if args and not set(args) <= SPACE_FROM_QUERY:
            url = _fill(rule, other_household)
        elif args:
            url = f"{_fill(rule, other_household)}?space_id={other_household['space_id']}"
        else:  # space-scoped routes take the space from ?space_id=
            url = f"{rule}?space_id={other_household['space_id']}"
        response = getattr(caller, method.lower())(url, json={})
        assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
        checked += 1
    assert checked >= 20
