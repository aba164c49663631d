"""Registration, sign-in, sessions, profile and API keys, through the HTTP API."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.maintenance import LAST_PRUNE_KEY, prune_sessions_if_due
from app.models.accounts import UserSession
from app.models.activity import ActivityEntry
from app.models.base import utcnow
from app.models.tenancy import Invite, Library, Space, SpaceMembership
from app.services.database import upgrade_database
from tests.conftest import fresh_database
from tests.factories import PASSWORD, Member, create_invite, household, join, signed_in

COOKIE = "boxset_session"
DOMAIN = "boxset.test"  # TestConfig.SERVER_NAME


def _cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE, domain=DOMAIN) or client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _activity(app, action: str) -> list[ActivityEntry]:
    with app.app_context():
        return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.action == action)))


# --- registration -------------------------------------------------------------------------


@pytest.mark.no_db_transaction
def test_first_registration_creates_the_admin_with_home_and_movies(make_app):
    with fresh_database() as url:
        app = make_app(SQLALCHEMY_DATABASE_URI=url)
        upgrade_database(app)
        with app.app_context():
            app.appbuilder.sm.bootstrap()
        client = app.test_client()
        response = client.post(
            "/api/auth/register",
            json={"email": "Ada@Example.test", "password": PASSWORD, "name": "Ada Lovelace"},
        )
        assert response.status_code == 201, response.json
        user = response.json["result"]
        assert user["email"] == "ada@example.test" and user["role"] == "Admin"
        assert user["name"] == "Ada Lovelace"
        assert [s["name"] for s in user["spaces"]] == ["Home"]
        assert user["spaces"][0]["role"] == "owner"
        assert _cookie(client)
        me = client.get("/api/auth/me").json["result"]
        with app.app_context():
            library = db.session.get(Library, me["active_library_id"])
            assert library.name == "Movies" and library.space_id == me["active_space_id"]

        second = app.test_client().post(
            "/api/auth/register",
            json={"email": "bob@example.test", "password": PASSWORD, "name": "Bob"},
        )
        assert second.status_code == 400
        assert second.json["code"] == "invite_required"


def test_registration_with_an_invite_grants_its_space_and_role(app):
    home = household(app)
    invite_id, token = create_invite(
        app, home.space_id, home.owner.user_id, role="viewer", email="Vic@Example.test"
    )
    client = app.test_client()
    response = client.post(
        "/api/auth/register",
        json={
            "email": "vic@example.test",
            "password": PASSWORD,
            "name": "Vic",
            "invite_token": token,
        },
    )
    assert response.status_code == 201, response.json
    result = response.json["result"]
    assert result["role"] == "Member"
    assert result["spaces"] == [{"id": home.space_id, "name": "Home", "role": "viewer"}]
    assert result["active_space_id"] == home.space_id
    with app.app_context():
        invite = db.session.get(Invite, invite_id)
        assert invite.used_by == result["id"] and invite.used_at is not None
        assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert [e.entity_id for e in _activity(app, "invite.claimed")] == [str(invite_id)]

    again = app.test_client().post(
        "/api/auth/register",
        json={
            "email": "zed@example.test",
            "password": PASSWORD,
            "name": "Zed",
            "invite_token": token,
        },
    )
    assert again.status_code == 400 and again.json["code"] == "invite_invalid"


@pytest.mark.parametrize("problem", ["unknown", "revoked", "expired", "other_email"])
def test_unusable_invites_are_invite_invalid(app, problem):
    home = household(app)
    _invite_id, token = create_invite(
        app, home.space_id, home.owner.user_id, email="right@example.test"
    )
    with app.app_context():
        invite = db.session.scalar(select(Invite))
        if problem == "revoked":
            invite.revoked_at = utcnow()
        if problem == "expired":
            invite.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    email = "wrong@example.test" if problem == "other_email" else "right@example.test"
    response = app.test_client().post(
        "/api/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "name": "X",
            "invite_token": "nope" if problem == "unknown" else token,
        },
    )
    assert response.status_code == 400
    assert response.json["code"] == "invite_invalid"
    with app.app_context():
        assert (
            db.session.scalar(
                select(SpaceMembership).where(
                    SpaceMembership.space_id == home.space_id, SpaceMembership.role == "member"
                )
            )
            is None
        )


def test_an_email_can_register_only_once_case_insensitively(app):
    home = household(app)
    _id, token = create_invite(app, home.space_id, home.owner.user_id)
    response = app.test_client().post(
        "/api/auth/register",
        json={
            "email": "OLIVE@example.TEST",
            "password": PASSWORD,
            "name": "Dup",
            "invite_token": token,
        },
    )
    assert response.status_code == 409 and response.json["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.test", "password": "short", "name": "A"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@example.test", "password": PASSWORD}, "name"),
        ({"email": 5, "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@example.test", "password": PASSWORD, "name": "A", "role": "Admin"}, "role"),
    ],
)
def test_registration_input_is_validated_per_field(client, body, field):
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 400
    assert response.json["code"] == "validation_failed"
    assert field in response.json["message"]


# --- sign-in and sessions ------------------------------------------------------------------


def test_login_sets_an_opaque_cookie_stored_only_as_its_hash(app):
    member = signed_in(app, "mia@example.test")
    token = _cookie(member.client)
    assert token and len(token) >= 43
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == member.user_id)
        ).all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert all(token not in str(r.data) for r in rows)
        assert rows[0].user_agent and rows[0].ip == "127.0.0.1"


def test_every_login_issues_a_new_token(app):
    member = signed_in(app, "mia@example.test")
    first = _cookie(member.client)
    member.login()
    assert _cookie(member.client) != first
    stale = app.test_client()
    stale.set_cookie(COOKIE, first, domain=DOMAIN)
    assert stale.get("/api/auth/me").status_code == 401


def test_wrong_password_is_401_and_audited_without_the_password(app):
    signed_in(app, "mia@example.test")
    response = app.test_client().post(
        "/api/auth/login", json={"email": "mia@example.test", "password": "guess-what-1"}
    )
    assert response.status_code == 401 and response.json["code"] == "invalid_credentials"
    unknown = app.test_client().post(
        "/api/auth/login", json={"email": "nobody@example.test", "password": "guess-what-1"}
    )
    assert unknown.status_code == 401
    failures = _activity(app, "auth.login.failed")
    assert [f.details["email"] for f in failures] == ["mia@example.test", "nobody@example.test"]
    assert all("guess-what-1" not in str(f.details) for f in failures)
    assert [e.user_id for e in _activity(app, "auth.login")]


def test_logout_deletes_the_session_row(app):
    member = signed_in(app, "mia@example.test")
    token = _cookie(member.client)
    assert member.post("/api/auth/logout").status_code == 204
    with app.app_context():
        assert (
            db.session.scalar(
                select(UserSession).where(
                    UserSession.token_hash == hashlib.sha256(token.encode()).hexdigest()
                )
            )
            is None
        )
    replay = app.test_client()
    replay.set_cookie(COOKIE, token, domain=DOMAIN)
    assert replay.get("/api/auth/me").status_code == 401
    assert _activity(app, "auth.logout")


def test_an_expired_session_is_401(app):
    member = signed_in(app, "mia@example.test")
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == member.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = member.get("/api/auth/me")
    assert response.status_code == 401 and response.json["code"] == "not_authenticated"


def test_only_the_newest_sessions_per_user_are_kept(app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_MAX_PER_USER", 2)
    member = signed_in(app, "mia@example.test")
    first = member.client
    others = [Member(app, member.user_id, member.email).login() for _ in range(2)]
    assert first.get("/api/auth/me").status_code == 401
    assert all(o.get("/api/auth/me").status_code == 200 for o in others)


def test_sessions_can_be_listed_and_revoked(app):
    laptop = signed_in(app, "mia@example.test")
    phone = Member(app, laptop.user_id, laptop.email).login()
    sessions = laptop.get("/api/auth/sessions").json["result"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other = next(s for s in sessions if not s["current"])
    assert laptop.delete(f"/api/auth/sessions/{other['id']}").status_code == 204
    assert phone.get("/api/auth/me").status_code == 401
    assert laptop.get("/api/auth/me").status_code == 200
    assert _activity(app, "auth.session.revoke")


def test_someone_elses_session_cannot_be_revoked(app):
    mia = signed_in(app, "mia@example.test")
    bob = signed_in(app, "bob@example.test")
    bobs = bob.get("/api/auth/sessions").json["result"][0]["id"]
    assert mia.delete(f"/api/auth/sessions/{bobs}").status_code == 404
    assert bob.get("/api/auth/me").status_code == 200


def test_expired_sessions_are_pruned_periodically(app):
    member = signed_in(app, "mia@example.test")
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == member.user_id)
            .values(expires_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    from app.extensions import huey

    huey.storage.delete_data(LAST_PRUNE_KEY)
    assert prune_sessions_if_due(now=1_000_000.0) == 1
    assert prune_sessions_if_due(now=1_000_030.0) is None  # not due within the interval
    interval = app.config["SESSION_CLEANUP_INTERVAL_MINUTES"] * 60
    assert prune_sessions_if_due(now=1_000_000.0 + interval) == 0


# --- profile -------------------------------------------------------------------------------


def test_password_change_needs_the_current_password_and_ends_other_sessions(app):
    laptop = signed_in(app, "mia@example.test")
    phone = Member(app, laptop.user_id, laptop.email).login()
    wrong = laptop.patch(
        "/api/auth/profile", json={"password": "new-password-1", "current_password": "nope-nope"}
    )
    assert wrong.status_code == 400 and "current_password" in wrong.json["message"]
    missing = laptop.patch("/api/auth/profile", json={"password": "new-password-1"})
    assert missing.status_code == 400 and "current_password" in missing.json["message"]
    ok = laptop.patch(
        "/api/auth/profile", json={"password": "new-password-1", "current_password": PASSWORD}
    )
    assert ok.status_code == 200
    assert phone.get("/api/auth/me").status_code == 401
    assert laptop.get("/api/auth/me").status_code == 200
    updates = _activity(app, "auth.profile.update")
    assert updates[-1].details == {"fields": [], "password_changed": True}
    relogin = app.test_client().post(
        "/api/auth/login", json={"email": "mia@example.test", "password": "new-password-1"}
    )
    assert relogin.status_code == 200


def test_profile_name_and_email_change(app):
    mia = signed_in(app, "mia@example.test")
    signed_in(app, "bob@example.test")
    taken = mia.patch("/api/auth/profile", json={"email": "BOB@example.test"})
    assert taken.status_code == 409
    ok = mia.patch("/api/auth/profile", json={"name": "Mia Wallace", "email": "Mia.W@example.test"})
    assert ok.status_code == 200
    assert ok.json["result"]["name"] == "Mia Wallace"
    assert ok.json["result"]["email"] == "mia.w@example.test"


def test_cookie_writes_without_the_csrf_header_are_refused_and_audited(app):
    mia = signed_in(app, "mia@example.test")
    response = mia.client.patch("/api/auth/profile", json={"name": "Eve"})
    assert response.status_code == 403 and response.json["code"] == "csrf_failed"
    assert mia.get("/api/auth/me").json["result"]["name"] != "Eve"
    assert _activity(app, "security.csrf_failed")


# --- API keys ------------------------------------------------------------------------------


def test_api_keys_are_shown_once_work_as_bearer_and_stop_when_revoked(app):
    mia = signed_in(app, "mia@example.test")
    created = mia.post("/api/auth/api-keys", json={"name": "backup script"})
    assert created.status_code == 201
    key = created.json["result"]["key"]
    assert key.startswith("bxs_") and created.json["result"]["prefix"] == "bxs_"
    listed = mia.get("/api/auth/api-keys").json["result"]
    assert [k["name"] for k in listed] == ["backup script"] and "key" not in listed[0]
    bearer = {"Authorization": f"Bearer {key}"}
    script = app.test_client()
    assert script.get("/api/auth/me", headers=bearer).json["result"]["email"] == "mia@example.test"
    minted = script.post("/api/auth/api-keys", json={"name": "x"}, headers=bearer)
    assert minted.status_code == 403
    key_id = created.json["result"]["id"]
    assert mia.delete(f"/api/auth/api-keys/{key_id}").status_code == 204
    assert script.get("/api/auth/me", headers=bearer).status_code == 401
    with app.app_context():
        assert all(key not in str(e.details) for e in db.session.scalars(select(ActivityEntry)))


def test_someone_elses_api_key_cannot_be_revoked(app):
    mia = signed_in(app, "mia@example.test")
    bob = signed_in(app, "bob@example.test")
    key_id = bob.post("/api/auth/api-keys", json={"name": "bob's"}).json["result"]["id"]
    assert mia.delete(f"/api/auth/api-keys/{key_id}").status_code == 404


def test_me_lists_spaces_and_the_active_scope(app):
    home = household(app)
    viewer = join(app, home, "vera@example.test", "viewer")
    me = viewer.get("/api/auth/me").json["result"]
    assert me["spaces"] == [{"id": home.space_id, "name": "Home", "role": "viewer"}]
    assert (me["active_space_id"], me["active_library_id"]) == (home.space_id, home.library_id)
    with app.app_context():
        assert db.session.get(Space, home.space_id).name == "Home"
