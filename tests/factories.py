"""Factories: users, spaces, memberships and signed-in clients, built through the services."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.services import accounts, invites, tenancy
from app.services.context import RequestInfo

PASSWORD = "correct-horse-battery"
INFO = RequestInfo(ip="127.0.0.1", user_agent="factory", request_id="factory")


def create_user(app: Flask, email: str, *, instance_admin: bool = False, name: str = "") -> int:
    with app.app_context():
        sm = app.appbuilder.sm
        user = BoxsetUser(
            username=email.lower(),
            email=email.lower(),
            first_name=(name or email.split("@")[0]).title(),
            last_name="",
            display_name=name or None,
            active=True,
            password=accounts._hash(PASSWORD),
            roles=[sm.find_role("Admin" if instance_admin else "Member")],
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def create_space(app: Flask, owner_id: int, name: str = "Home") -> tuple[int, int]:
    """A space owned by `owner_id` with its first library; returns (space_id, library_id)."""
    with app.app_context():
        owner = db.session.get(BoxsetUser, owner_id)
        space, library = tenancy.create_space_for(owner, name, info=INFO)
        db.session.commit()
        return space.id, library.id


def add_member(app: Flask, space_id: int, user_id: int, role: str = "member") -> None:
    with app.app_context():
        tenancy.join_space(user_id, space_id, role)
        db.session.commit()


def create_invite(app: Flask, space_id: int, by_user_id: int, **kwargs) -> tuple[int, str]:
    with app.app_context():
        actor = db.session.get(BoxsetUser, by_user_id)
        scope = tenancy.resolve_scope(actor, space_id=space_id)
        options = {"email": None, "role": "member", "expires_in_days": 7, **kwargs}
        invite, raw = invites.create_invite(scope, info=INFO, **options)
        return invite.id, raw


@dataclass
class Member:
    """A signed-in test client for one user (cookie session plus its CSRF header)."""

    app: Flask
    user_id: int
    email: str
    client: FlaskClient = field(init=False)
    csrf: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()

    def login(self) -> Member:
        response = self.client.post(
            "/api/auth/login", json={"email": self.email, "password": PASSWORD}, headers=self.csrf
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        self.csrf = {"X-CSRF-Token": self.client.get("/api/auth/csrf-token").json["csrf_token"]}
        return self

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, json=None, **kw):
        return self.client.post(url, json=json, headers=self.csrf, **kw)

    def patch(self, url: str, json=None, **kw):
        return self.client.patch(url, json=json, headers=self.csrf, **kw)

    def put(self, url: str, json=None, **kw):
        return self.client.put(url, json=json, headers=self.csrf, **kw)

    def delete(self, url: str, json=None, **kw):
        return self.client.delete(url, json=json, headers=self.csrf, **kw)

    def upload(self, url: str, data: bytes, name: str = "upload.bin", field: str = "file"):
        """POST one file as a multipart form field, as a browser form sends it."""
        return self.client.post(
            url,
            data={field: (io.BytesIO(data), name)},
            headers=self.csrf,
            content_type="multipart/form-data",
        )


def signed_in(app: Flask, email: str, **kwargs) -> Member:
    user_id = create_user(app, email, **kwargs)
    return Member(app, user_id, email.lower()).login()


@dataclass
class Household:
    owner: Member
    space_id: int
    library_id: int


def household(app: Flask, owner_email: str = "olive@example.test", name: str = "Home") -> Household:
    owner = signed_in(app, owner_email)
    space_id, library_id = create_space(app, owner.user_id, name)
    return Household(owner, space_id, library_id)


def join(app: Flask, home: Household, email: str, role: str) -> Member:
    user_id = create_user(app, email)
    add_member(app, home.space_id, user_id, role)
    return Member(app, user_id, email.lower()).login()
