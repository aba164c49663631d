"""Hostile input, half-finished changes, the framework's own screens, and concurrent writers."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.activity import ActivityEntry
from app.services.database import upgrade_database
from tests.conftest import fresh_database, serve
from tests.factories import (
    PASSWORD,
    add_member,
    create_invite,
    create_space,
    create_user,
    household,
    signed_in,
)


def _actions(app, action: str) -> list[ActivityEntry]:
    with app.app_context():
        return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.action == action)))


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/auth/login", {"email": "a@example.test", "password": "\ud800password1"}),
        ("/api/auth/register", {"email": "a@example.test", "password": PASSWORD, "name": "\udfff"}),
    ],
)
def test_lone_surrogates_are_a_400_not_a_500(client, url, body):
    response = client.post(url, json=body)
    assert response.status_code == 400
    assert response.json["code"] == "validation_failed"


def test_names_made_of_whitespace_are_refused(app):
    home = household(app)
    for url in ("/api/spaces", "/api/libraries"):
        response = home.owner.post(url, json={"name": "   "})
        assert response.status_code == 400 and "name" in response.json["message"], url
    trimmed = home.owner.post("/api/libraries", json={"name": "  Kids  "})
    assert trimmed.json["result"]["name"] == "Kids"


def test_emails_longer_than_a_username_are_refused(client):
    email = "a" * 120 + "@example.test"
    response = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": "Long"}
    )
    assert response.status_code == 400 and "email" in response.json["message"]


def test_times_are_iso_8601_utc_everywhere(app):
    home = household(app)
    me = home.owner.get("/api/auth/me").json["result"]
    assert me["last_login_at"].endswith("Z") and "T" in me["last_login_at"]
    users = home.owner.get("/api/admin/users").json["result"]
    assert all(u["last_login_at"].endswith("Z") for u in users)


def test_a_refused_role_change_changes_nothing(app):
    root = signed_in(app, "root@example.test", instance_admin=True)
    create_space(app, root.user_id, "Ops")
    outsider = create_user(app, "out@example.test")
    response = root.patch(
        f"/api/admin/users/{outsider}/role", json={"instance_role": "Admin", "role": "member"}
    )
    assert response.status_code == 404  # not a member of the active space
    me = httpx_me = root.get("/api/admin/users").json["result"]
    assert next(u for u in httpx_me if u["id"] == outsider)["role"] == "Member"
    assert not [e for e in _actions(app, "admin.user.role.update") if e.entity_id == str(outsider)]
    assert me


def test_the_frameworks_own_password_and_user_forms_are_closed(app):
    root = signed_in(app, "root@example.test", instance_admin=True)
    member = signed_in(app, "mo@example.test")
    assert member.get("/resetmypassword/form").status_code in (302, 403)
    assert root.get(f"/resetpassword/form?pk={member.user_id}").status_code in (302, 403)
    assert root.get(f"/users/edit/{member.user_id}").status_code in (302, 403)
    assert root.get(f"/users/delete/{member.user_id}").status_code in (302, 403, 405)
    assert root.get("/users/list/").status_code == 200  # reading stays possible


def test_creating_a_space_does_not_switch_to_it(app):
    home = household(app)
    home.owner.post("/api/spaces", json={"name": "Cabin"})
    assert home.owner.get("/api/auth/me").json["result"]["active_space_id"] == home.space_id


def test_an_existing_account_accepts_an_invitation_to_another_household(app):
    home = household(app)
    other = household(app, "otto@example.test", "Elsewhere")
    _id, token = create_invite(app, home.space_id, home.owner.user_id, role="viewer")
    joined = other.owner.post("/api/auth/invites/accept", json={"invite_token": token})
    assert joined.status_code == 200
    spaces = {s["name"]: s["role"] for s in joined.json["result"]["spaces"]}
    assert spaces == {"Home": "viewer", "Elsewhere": "owner"}
    assert joined.json["result"]["active_space_id"] == home.space_id
    again = other.owner.post("/api/auth/invites/accept", json={"invite_token": token})
    assert again.status_code == 400 and again.json["code"] == "invite_invalid"
    _id, mine = create_invite(app, home.space_id, home.owner.user_id, email="x@example.test")
    wrong = other.owner.post("/api/auth/invites/accept", json={"invite_token": mine})
    assert wrong.json["code"] == "invite_invalid"
    page = other.owner.get(f"/register?invite={mine}")
    assert page.status_code == 200 and "Join a household" in page.get_data(as_text=True)


def test_logout_with_an_api_key_ends_nothing(app):
    mia = signed_in(app, "mia@example.test")
    key = mia.post("/api/auth/api-keys", json={"name": "k"}).json["result"]["key"]
    script = app.test_client()
    assert (
        script.post("/api/auth/logout", headers={"Authorization": f"Bearer {key}"}).status_code
        == 204
    )
    assert mia.get("/api/auth/me").status_code == 200
    assert not _actions(app, "auth.logout")


def test_an_empty_profile_update_records_nothing(app):
    mia = signed_in(app, "mia@example.test")
    assert mia.patch("/api/auth/profile", json={}).status_code == 200
    assert not _actions(app, "auth.profile.update")


def test_search_wildcards_are_literal(app):
    home = household(app)
    assert home.owner.get("/api/admin/activity?q=%25").json["count"] == 0
    assert home.owner.get("/api/admin/activity?q=_").json["count"] == 0


def test_a_password_typed_as_the_email_stays_out_of_the_log(app):
    app.test_client().post(
        "/api/auth/login", json={"email": "my secret pass", "password": "whatever-1"}
    )
    failure = _actions(app, "auth.login.failed")[-1]
    assert failure.details == {"email": "(not an email address)"}


@pytest.mark.no_db_transaction
def test_concurrent_writers_all_succeed(make_app):
    """The embedded server's threads writing at once: no 'database is locked' 500s."""
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url, SERVER_NAME=None)
        upgrade_database(app)
        with app.app_context():
            app.appbuilder.sm.bootstrap()
        owner = create_user(app, "olive@example.test")
        create_space(app, owner)
        with serve(app) as base:
            clients = []
            for _ in range(8):
                c = httpx.Client(base_url=base, timeout=60)
                c.post(
                    "/api/auth/login", json={"email": "olive@example.test", "password": PASSWORD}
                )
                c.headers["X-CSRF-Token"] = c.get("/api/auth/csrf-token").json()["csrf_token"]
                clients.append(c)
            results: list[int] = []

            def create(i: int, client: httpx.Client) -> None:
                results.append(
                    client.post("/api/libraries", json={"name": f"Shelf {i}"}).status_code
                )

            threads = [threading.Thread(target=create, args=(i, c)) for i, c in enumerate(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(results) == [201] * 8
            for c in clients:
                c.close()


@pytest.mark.no_db_transaction
def test_two_owners_demoting_each_other_at_once_leave_one_owner(make_app):
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url, SERVER_NAME=None)
        upgrade_database(app)
        with app.app_context():
            app.appbuilder.sm.bootstrap()
        a = create_user(app, "a@example.test")
        b = create_user(app, "b@example.test")
        space_id, _library = create_space(app, a)
        add_member(app, space_id, b, "owner")
        with serve(app) as base:
            clients = {}
            for email, uid in (("a@example.test", a), ("b@example.test", b)):
                c = httpx.Client(base_url=base, timeout=60)
                c.post("/api/auth/login", json={"email": email, "password": PASSWORD})
                c.headers["X-CSRF-Token"] = c.get("/api/auth/csrf-token").json()["csrf_token"]
                clients[uid] = c
            barrier = threading.Barrier(2)
            results: list[int] = []

            def demote(actor: int, target: int) -> None:
                barrier.wait()
                response = clients[actor].patch(
                    f"/api/spaces/{space_id}/members/{target}", json={"role": "admin"}
                )
                results.append(response.status_code)

            threads = [
                threading.Thread(target=demote, args=(a, b)),
                threading.Thread(target=demote, args=(b, a)),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # Serialised: the second sees either the last owner (409) or that it is no longer
            # an owner itself (403). Never both 200.
            assert sorted(results)[0] == 200 and sorted(results)[1] in (403, 409)
            members = clients[a].get(f"/api/spaces/{space_id}/members").json()
            if "result" not in members:  # a was the one demoted; ask the remaining owner
                members = clients[b].get(f"/api/spaces/{space_id}/members").json()
            assert [m["role"] for m in members["result"]].count("owner") == 1
            for c in clients.values():
                c.close()
