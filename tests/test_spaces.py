"""Spaces, members and libraries: roles decide who may change what; other spaces are 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.tenancy import Library, Space, UserScope
from tests.factories import household, join, signed_in


@pytest.fixture
def home(app):
    return household(app)


def test_a_member_sees_only_their_spaces(app, home):
    stranger = signed_in(app, "sam@example.test")
    assert stranger.get("/api/spaces").json == {"count": 0, "result": []}
    listed = home.owner.get("/api/spaces").json["result"]
    assert [(s["id"], s["role"]) for s in listed] == [(home.space_id, "owner")]


def test_creating_a_space_makes_me_owner_with_a_first_library(app, home):
    response = home.owner.post("/api/spaces", json={"name": "Cabin"})
    assert response.status_code == 201 and response.json["result"]["role"] == "owner"
    space_id = response.json["id"]
    libraries = home.owner.get(f"/api/libraries?space_id={space_id}").json["result"]
    assert [lib["name"] for lib in libraries] == ["Movies"]


def test_switching_space_selects_its_first_library(app, home):
    cabin = home.owner.post("/api/spaces", json={"name": "Cabin"}).json["id"]
    selected = home.owner.post(f"/api/spaces/{home.space_id}/select")
    assert selected.status_code == 200
    assert selected.json["result"]["active_space_id"] == home.space_id
    assert selected.json["result"]["active_library_id"] == home.library_id
    me = home.owner.get("/api/auth/me").json["result"]
    assert me["active_space_id"] == home.space_id
    assert {s["id"] for s in me["spaces"]} == {home.space_id, cabin}


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/spaces/{space}/select", None),
        ("patch", "/api/spaces/{space}", {"name": "Mine now"}),
        ("delete", "/api/spaces/{space}", {"confirm_name": "Home"}),
        ("get", "/api/spaces/{space}/members", None),
        ("patch", "/api/spaces/{space}/members/{owner}", {"role": "viewer"}),
        ("delete", "/api/spaces/{space}/members/{owner}", None),
        ("get", "/api/libraries?space_id={space}", None),
        ("post", "/api/libraries?space_id={space}", {"name": "Mine"}),
        ("patch", "/api/libraries/{library}", {"name": "Mine"}),
        ("post", "/api/libraries/select", {"library_id": "{library}"}),
        ("post", "/api/libraries/{library}/archive", {"confirm_name": "Movies"}),
        ("delete", "/api/libraries/{library}", {"confirm_name": "Movies", "media": "delete"}),
    ],
)
def test_another_households_things_are_not_found(app, home, method, url, body):
    stranger = signed_in(app, "sam@example.test")
    values = {"space": home.space_id, "library": home.library_id, "owner": home.owner.user_id}
    if body and body.get("library_id") == "{library}":
        body = {"library_id": home.library_id}
    response = getattr(stranger, method)(url.format(**values), json=body)
    assert response.status_code == 404, response.json
    assert response.json["code"] == "not_found"
    with app.app_context():
        assert db.session.get(Space, home.space_id).name == "Home"
        assert db.session.get(Library, home.library_id).archived_at is None


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_manage_libraries(app, home, role):
    person = join(app, home, f"{role}-person@example.test", role)
    assert person.get("/api/libraries").status_code == 200
    denied = [
        person.post("/api/libraries", json={"name": "Kids"}),
        person.patch(f"/api/libraries/{home.library_id}", json={"name": "X"}),
        person.post(f"/api/libraries/{home.library_id}/archive", json={"confirm_name": "Movies"}),
        person.get(f"/api/spaces/{home.space_id}/members"),
    ]
    assert [r.status_code for r in denied] == [403, 403, 403, 403]
    assert all(r.json["code"] == "forbidden" for r in denied)


def test_space_admins_manage_libraries_with_unique_names(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    created = admin.post("/api/libraries", json={"name": "Kids", "description": "Cartoons"})
    assert created.status_code == 201
    assert admin.post("/api/libraries", json={"name": "kids"}).status_code == 409
    renamed = admin.patch(f"/api/libraries/{created.json['id']}", json={"name": "Family"})
    assert renamed.status_code == 200 and renamed.json["result"]["name"] == "Family"
    names = [lib["name"] for lib in admin.get("/api/libraries").json["result"]]
    assert names == ["Family", "Movies"]


@pytest.mark.parametrize("confirm", [None, "", "movies", "Movies "])
def test_archive_and_delete_need_the_exact_name(app, home, confirm):
    url = f"/api/libraries/{home.library_id}"
    body = {} if confirm is None else {"confirm_name": confirm}
    archived = home.owner.post(f"{url}/archive", json=body)
    deleted = home.owner.delete(url, json={**body, "media": "delete"})
    for response in (archived, deleted):
        assert response.status_code == 400
        assert response.json["code"] == "validation_failed"
        assert "confirm_name" in response.json["message"]
    with app.app_context():
        library = db.session.get(Library, home.library_id)
        assert library is not None and library.archived_at is None


def test_archiving_moves_active_users_to_another_library(app, home):
    kids = home.owner.post("/api/libraries", json={"name": "Kids"}).json["id"]
    member = join(app, home, "mo@example.test", "member")
    response = home.owner.post(
        f"/api/libraries/{home.library_id}/archive", json={"confirm_name": "Movies"}
    )
    assert response.status_code == 200 and response.json["result"]["archived_at"]
    assert member.get("/api/auth/me").json["result"]["active_library_id"] == kids
    assert [lib["id"] for lib in member.get("/api/libraries").json["result"]] == [kids]
    assert (
        member.post("/api/libraries/select", json={"library_id": home.library_id}).status_code
        == 409
    )
    back = home.owner.post(
        f"/api/libraries/{home.library_id}/unarchive", json={"confirm_name": "Movies"}
    )
    assert back.status_code == 200 and back.json["result"]["archived_at"] is None


def test_deleting_a_library_requires_choosing_what_happens_to_its_items(app, home):
    kids = home.owner.post("/api/libraries", json={"name": "Kids"}).json["id"]
    url = f"/api/libraries/{kids}"
    no_choice = home.owner.delete(url, json={"confirm_name": "Kids"})
    assert no_choice.status_code == 400 and "media" in no_choice.json["message"]
    no_target = home.owner.delete(url, json={"confirm_name": "Kids", "media": "move"})
    assert no_target.status_code == 400 and "target_library_id" in no_target.json["message"]
    to_itself = home.owner.delete(
        url, json={"confirm_name": "Kids", "media": "move", "target_library_id": kids}
    )
    assert to_itself.status_code == 400
    other = household(app, "otto@example.test", "Elsewhere")
    elsewhere = home.owner.delete(
        url, json={"confirm_name": "Kids", "media": "move", "target_library_id": other.library_id}
    )
    assert elsewhere.status_code == 404
    moved = home.owner.delete(
        url, json={"confirm_name": "Kids", "media": "move", "target_library_id": home.library_id}
    )
    assert moved.status_code == 204
    with app.app_context():
        assert db.session.get(Library, kids) is None


def test_the_last_owner_cannot_leave_or_be_demoted(app, home):
    url = f"/api/spaces/{home.space_id}/members/{home.owner.user_id}"
    demote = home.owner.patch(url, json={"role": "admin"})
    leave = home.owner.delete(url)
    assert (demote.status_code, leave.status_code) == (409, 409)
    second = join(app, home, "sue@example.test", "member")
    promoted = home.owner.patch(
        f"/api/spaces/{home.space_id}/members/{second.user_id}", json={"role": "owner"}
    )
    assert promoted.status_code == 200
    assert home.owner.delete(url).status_code == 204  # now another owner remains
    assert home.owner.get(f"/api/spaces/{home.space_id}/members").status_code == 404


def test_only_owners_make_or_unmake_owners(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    member = join(app, home, "mo@example.test", "member")
    members = f"/api/spaces/{home.space_id}/members"
    assert admin.patch(f"{members}/{member.user_id}", json={"role": "owner"}).status_code == 403
    assert (
        admin.patch(f"{members}/{home.owner.user_id}", json={"role": "member"}).status_code == 403
    )
    assert admin.delete(f"{members}/{home.owner.user_id}").status_code == 403
    assert admin.patch(f"{members}/{member.user_id}", json={"role": "viewer"}).status_code == 200
    assert admin.delete(f"{members}/{member.user_id}").status_code == 204
    assert member.get("/api/auth/me").json["result"]["spaces"] == []


def test_deleting_a_space_is_for_owners_with_the_exact_name(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    assert (
        admin.delete(f"/api/spaces/{home.space_id}", json={"confirm_name": "Home"}).status_code
        == 403
    )
    assert (
        home.owner.delete(f"/api/spaces/{home.space_id}", json={"confirm_name": "home"}).status_code
        == 400
    )
    cabin = home.owner.post("/api/spaces", json={"name": "Cabin"}).json["id"]
    home.owner.post(f"/api/spaces/{home.space_id}/select")
    assert (
        home.owner.delete(f"/api/spaces/{home.space_id}", json={"confirm_name": "Home"}).status_code
        == 204
    )
    assert home.owner.get("/api/auth/me").json["result"]["active_space_id"] == cabin
    with app.app_context():
        assert db.session.get(Space, home.space_id) is None
        assert (
            db.session.scalar(select(UserScope).where(UserScope.user_id == admin.user_id)) is None
        )
    assert admin.get("/api/libraries").status_code == 404


def test_an_active_library_must_belong_to_the_active_space(app, home):
    """The database itself refuses a scope that points into another space."""
    from sqlalchemy.exc import IntegrityError

    other = household(app, "otto@example.test", "Elsewhere")
    with app.app_context():
        scope = db.session.get(UserScope, home.owner.user_id)
        scope.library_id = other.library_id
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
