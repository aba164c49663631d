"""Administration: members, roles, invitations and the activity log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.activity import ActivityEntry
from app.models.tenancy import Invite
from tests.factories import PASSWORD, household, join, signed_in


@pytest.fixture
def home(app):
    return household(app)


def test_space_admins_list_their_members_and_members_may_not(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    member = join(app, home, "mo@example.test", "member")
    signed_in(app, "outsider@example.test")
    users = admin.get("/api/admin/users").json["result"]
    assert {(u["email"], u["space_role"]) for u in users} == {
        ("olive@example.test", "owner"),
        ("ann@example.test", "admin"),
        ("mo@example.test", "member"),
    }
    assert all("password" not in u for u in users)
    denied = member.get("/api/admin/users")
    assert denied.status_code == 403 and denied.json["code"] == "forbidden"


def test_instance_admins_see_every_account(app, home):
    root = signed_in(app, "root@example.test", instance_admin=True)
    root.post("/api/spaces", json={"name": "Ops"})
    emails = {u["email"] for u in root.get("/api/admin/users").json["result"]}
    assert {"olive@example.test", "root@example.test", "admin@example.test"} <= emails


def test_member_summary(app, home):
    member = join(app, home, "mo@example.test", "member")
    summary = home.owner.get(f"/api/admin/users/{member.user_id}/summary").json["result"]
    assert summary["last_login_at"].endswith("Z")
    assert summary["additions_count"] == 0 and summary["contribution_score"] == 0
    stranger = signed_in(app, "sam@example.test")
    assert home.owner.get(f"/api/admin/users/{stranger.user_id}/summary").status_code == 404


def test_roles_change_with_the_last_owner_and_last_admin_protected(app, home):
    member = join(app, home, "mo@example.test", "member")
    url = f"/api/admin/users/{member.user_id}/role"
    assert home.owner.patch(url, json={"role": "admin"}).json["result"]["space_role"] == "admin"
    assert (
        home.owner.patch(
            f"/api/admin/users/{home.owner.user_id}/role", json={"role": "member"}
        ).status_code
        == 409
    )
    assert home.owner.patch(url, json={"instance_role": "Admin"}).status_code == 403
    assert home.owner.patch(url, json={}).status_code == 400
    assert home.owner.patch(url, json={"role": "emperor"}).status_code == 400
    updates = [e.details for e in _entries(app, "admin.user.role.update")]
    assert {"from": "member", "to": "admin", "scope": "space"} in updates


def test_the_last_instance_admin_cannot_be_demoted(app):
    with app.app_context():
        others = db.session.scalars(select(BoxsetUser)).all()
        for user in others:  # leave exactly one instance Admin
            user.roles = [app.appbuilder.sm.find_role("Member")]
        db.session.commit()
    root = signed_in(app, "root@example.test", instance_admin=True)
    root.post("/api/spaces", json={"name": "Ops"})
    response = root.patch(f"/api/admin/users/{root.user_id}/role", json={"instance_role": "Member"})
    assert response.status_code == 409
    mo = signed_in(app, "mo@example.test")
    promoted = root.patch(f"/api/admin/users/{mo.user_id}/role", json={"instance_role": "Admin"})
    assert promoted.status_code == 200 and promoted.json["result"]["role"] == "Admin"
    assert (
        root.patch(
            f"/api/admin/users/{root.user_id}/role", json={"instance_role": "Member"}
        ).status_code
        == 200
    )


def test_removing_members(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    member = join(app, home, "mo@example.test", "member")
    assert admin.delete(f"/api/admin/users/{admin.user_id}").status_code == 409  # yourself
    assert admin.delete(f"/api/admin/users/{home.owner.user_id}").status_code == 403  # an owner
    assert admin.delete(f"/api/admin/users/{member.user_id}").status_code == 204
    with app.app_context():
        assert db.session.get(BoxsetUser, member.user_id) is not None  # only left the space
    assert member.get("/api/libraries").status_code == 404


def test_instance_admins_delete_accounts_but_not_a_spaces_last_owner(app, home):
    root = signed_in(app, "root@example.test", instance_admin=True)
    root.post("/api/spaces", json={"name": "Ops"})
    member = join(app, home, "mo@example.test", "member")
    assert root.delete(f"/api/admin/users/{home.owner.user_id}").status_code == 409
    assert root.delete(f"/api/admin/users/{member.user_id}").status_code == 204
    with app.app_context():
        assert db.session.get(BoxsetUser, member.user_id) is None
    assert member.get("/api/auth/me").status_code == 401
    deleted = _entries(app, "admin.user.delete")
    assert deleted and deleted[0].details == {"email": "mo@example.test"}


def test_invites_are_shown_once_stored_hashed_listed_and_revoked(app, home):
    created = home.owner.post(
        "/api/admin/invites",
        json={"email": "New@Example.test", "role": "viewer", "expires_in_days": 3},
    )
    assert created.status_code == 201
    result = created.json["result"]
    token = result["token"]
    assert result["invite_url"].endswith(f"/register?invite={token}")
    assert (result["email"], result["role"], result["status"]) == (
        "new@example.test",
        "viewer",
        "active",
    )
    assert result["created_by_email"] == "olive@example.test"
    with app.app_context():
        assert all(token not in repr(vars(i)) for i in db.session.scalars(select(Invite)))
        assert all(token not in str(e.details) for e in db.session.scalars(select(ActivityEntry)))
    listed = home.owner.get("/api/admin/invites").json["result"]
    assert [i["id"] for i in listed] == [created.json["id"]] and "token" not in listed[0]
    revoke = home.owner.patch(f"/api/admin/invites/{created.json['id']}/revoke")
    assert revoke.status_code == 200 and revoke.json["result"]["status"] == "revoked"
    assert home.owner.patch(f"/api/admin/invites/{created.json['id']}/revoke").status_code == 409
    assert home.owner.get("/api/admin/invites").json["result"] == []
    history = home.owner.get("/api/admin/invites?status=all").json["result"]
    assert [i["status"] for i in history] == ["revoked"]
    assert home.owner.get("/api/admin/invites?status=bogus").status_code == 400


def test_invite_claimer_is_visible_and_used_invites_are_history(app, home):
    created = home.owner.post("/api/admin/invites", json={}).json
    app.test_client().post(
        "/api/auth/register",
        json={
            "email": "newbie@example.test",
            "password": PASSWORD,
            "name": "Newbie",
            "invite_token": created["result"]["token"],
        },
    )
    used = home.owner.get("/api/admin/invites?status=used").json["result"]
    assert [(i["used_by_email"], i["role"]) for i in used] == [("newbie@example.test", "member")]


def test_invites_need_a_space_admin_and_owners_invite_owners(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    member = join(app, home, "mo@example.test", "member")
    assert member.post("/api/admin/invites", json={}).status_code == 403
    assert admin.post("/api/admin/invites", json={"role": "owner"}).status_code == 403
    assert home.owner.post("/api/admin/invites", json={"role": "owner"}).status_code == 201
    for bad in (
        {"expires_in_days": 0},
        {"expires_in_days": 91},
        {"email": "nope"},
        {"role": "god"},
    ):
        assert home.owner.post("/api/admin/invites", json=bad).status_code == 400


def test_another_spaces_invite_cannot_be_revoked(app, home):
    other = household(app, "otto@example.test", "Elsewhere")
    invite_id = other.owner.post("/api/admin/invites", json={}).json["id"]
    assert home.owner.patch(f"/api/admin/invites/{invite_id}/revoke").status_code == 404


def _entries(app, action: str) -> list[ActivityEntry]:
    with app.app_context():
        return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.action == action)))


def test_activity_log_filters_newest_first(app, home):
    member = join(app, home, "mo@example.test", "member")
    home.owner.post("/api/libraries", json={"name": "Kids"})
    home.owner.patch(f"/api/admin/users/{member.user_id}/role", json={"role": "viewer"})
    log = home.owner.get("/api/admin/activity").json
    actions = [e["action"] for e in log["result"]]
    assert log["count"] == len(actions)
    assert actions.index("admin.user.role.update") < actions.index("library.create")
    ids = [e["id"] for e in log["result"]]
    assert ids == sorted(ids, reverse=True)
    only = home.owner.get("/api/admin/activity?action=library.create").json["result"]
    assert [e["details"]["name"] for e in only] == ["Kids"]
    mine = home.owner.get(f"/api/admin/activity?userId={member.user_id}").json["result"]
    assert {e["user_id"] for e in mine} == {member.user_id}
    text = home.owner.get("/api/admin/activity?q=kids").json["result"]
    assert [e["action"] for e in text] == ["library.create"]
    later = home.owner.get("/api/admin/activity?from=2999-01-01T00:00:00Z").json
    assert later == {"count": 0, "result": []}
    paged = home.owner.get("/api/admin/activity?limit=1&offset=1").json
    assert len(paged["result"]) == 1 and paged["result"][0]["id"] == ids[1]
    entry = log["result"][0]
    assert entry["request_id"] and entry["ip"] == "127.0.0.1" and entry["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "query", ["from=yesterday", "to=2026-13-45", "limit=0", "limit=501", "offset=-1", "userId=x"]
)
def test_activity_log_rejects_malformed_filters(app, home, query):
    response = home.owner.get(f"/api/admin/activity?{query}")
    assert response.status_code == 400 and response.json["code"] == "validation_failed"


def test_activity_log_is_for_space_admins_and_scoped_to_the_space(app, home):
    member = join(app, home, "mo@example.test", "member")
    assert member.get("/api/admin/activity").status_code == 403
    other = household(app, "otto@example.test", "Elsewhere")
    other.owner.post("/api/libraries", json={"name": "Secret stash"})
    seen = home.owner.get("/api/admin/activity?q=secret").json
    assert seen["count"] == 0
    assert home.owner.get(f"/api/admin/activity?space_id={other.space_id}").status_code == 404


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("off", set()),
        ("failures", {"request.failed"}),
        ("mutations", {"request.failed", "request.succeeded"}),
        ("all", {"request.failed", "request.succeeded"}),
    ],
)
def test_audit_log_mode_records_request_outcomes(app, home, monkeypatch, mode, expected):
    monkeypatch.setitem(app.config, "AUDIT_LOG_MODE", mode)
    home.owner.get("/api/no-such-endpoint")
    home.owner.post("/api/libraries", json={"name": "Audited"})
    home.owner.get("/api/libraries")
    outcomes = _entries(app, "request.failed") + _entries(app, "request.succeeded")
    assert {e.action for e in outcomes} == expected
    gets = [e for e in outcomes if e.action == "request.succeeded" and e.details["method"] == "GET"]
    assert bool(gets) == (mode == "all")
    for entry in outcomes:
        assert {"method", "path", "status", "duration_ms", "error"} <= entry.details.keys()
    failed = [e for e in outcomes if e.action == "request.failed"]
    if failed:
        assert failed[0].details["status"] == 404
        assert failed[0].details["error"].startswith("not_found")


def test_no_activity_row_holds_a_secret(app, home):
    key = home.owner.post("/api/auth/api-keys", json={"name": "k"}).json["result"]["key"]
    invite = home.owner.post("/api/admin/invites", json={}).json["result"]["token"]
    home.owner.patch(
        "/api/auth/profile", json={"password": "brand-new-secret-9", "current_password": PASSWORD}
    )
    app.test_client().post(
        "/api/auth/login", json={"email": "olive@example.test", "password": "typo-secret-7"}
    )
    with app.app_context():
        dump = " ".join(
            f"{e.details} {e.user_email} {e.entity_id}"
            for e in db.session.scalars(select(ActivityEntry))
        )
    for secret in (key, invite, PASSWORD, "brand-new-secret-9", "typo-secret-7"):
        assert secret not in dump
