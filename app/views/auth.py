"""Authentication endpoints under /api/auth (api.md "Health and auth")."""

from __future__ import annotations

from flask import current_app, g
from flask_appbuilder.api import expose
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.schemas.accounts import (
    ApiKeyPostSchema,
    InviteAcceptSchema,
    LoginPostSchema,
    ProfilePatchSchema,
    RegisterPostSchema,
    iso,
)
from app.services import accounts, activity, invites, sessions
from app.views.common import (
    BoxsetApi,
    authenticated,
    current_session_id,
    load_json,
    many,
    no_content,
    one,
    request_info,
    require_actor,
)


def _session_out(row, current_id) -> dict:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "last_seen_at": iso(row.last_seen_at),
        "expires_at": iso(row.expires_at),
        "ip": row.ip,
        "user_agent": row.user_agent,
        "current": row.id == current_id,
    }


def _api_key_out(key) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.key_prefix,
        "created_at": iso(key.created_on),
        "last_used_at": iso(key.last_used_on),
    }


class AuthApi(BoxsetApi):
    resource_name = "auth"
    route_base = "/api/auth"
    openapi_spec_tag = "Auth"
    openapi_spec_component_schemas = (
        RegisterPostSchema,
        LoginPostSchema,
        ProfilePatchSchema,
        ApiKeyPostSchema,
        InviteAcceptSchema,
    )
    rate_limits = [("auth", ("POST",))]
    public_endpoints = ("csrf_token", "register", "login")

    @expose("/csrf-token", methods=["GET"])
    def csrf_token(self):
        """The CSRF token that cookie-authenticated writes send as `X-CSRF-Token`.
        ---
        get:
          summary: Get the CSRF token for this browser session
          security: []
          responses:
            200:
              description: The token
              content:
                application/json:
                  schema:
                    type: object
                    required: [csrf_token]
                    properties:
                      csrf_token:
                        type: string
        """
        return self.response(200, csrf_token=generate_csrf())

    @expose("/register", methods=["POST"])
    def register(self):
        """Create an account: the first one becomes the instance Admin, later ones need an invite.
        ---
        post:
          summary: Register
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/RegisterPostSchema'
          responses:
            201:
              description: Registered and signed in (session cookie set)
            400:
              description: Invalid input, invite required or invalid
            409:
              description: The email is already registered
        """
        data = load_json(RegisterPostSchema())
        user = accounts.register(
            email=data["email"],
            password=data["password"],
            name=data["name"],
            invite_token=data["invite_token"],
            info=request_info(),
        )
        login_user(user)
        return one(accounts.me(user), 201)

    @expose("/login", methods=["POST"])
    def login(self):
        """Sign in with email and password; sets the session cookie.
        ---
        post:
          summary: Sign in
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/LoginPostSchema'
          responses:
            200:
              description: Signed in
            401:
              description: Wrong email or password
        """
        data = load_json(LoginPostSchema())
        user = accounts.authenticate(data["email"], data["password"])
        login_user(user)
        return one(accounts.me(user))

    @expose("/logout", methods=["POST"])
    @authenticated
    def logout(self):
        """Sign out: the session row is deleted.
        ---
        post:
          summary: Sign out
          responses:
            204:
              description: Signed out
            401:
              description: Not signed in
        """
        if g.get("auth_method") == "session":  # an API key has no session to end
            activity.record_account_event("auth.logout", g.actor, info=request_info(), commit=True)
            logout_user()
        return no_content()

    @expose("/invites/accept", methods=["POST"])
    @authenticated
    def accept_invite(self):
        """Join another space with an invitation (for people who already have an account).
        ---
        post:
          summary: Accept an invitation
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/InviteAcceptSchema'
          responses:
            200:
              description: Joined; the space is now active
            400:
              description: The invitation is not valid for me
            401:
              description: Not signed in
            409:
              description: Already a member
        """
        data = load_json(InviteAcceptSchema())
        invites.accept_invite(g.actor, data["invite_token"], request_info())
        return one(accounts.me(g.actor))

    @expose("/me", methods=["GET"])
    @authenticated
    def me(self):
        """The caller, their instance role, active space and library, and spaces.
        ---
        get:
          summary: Who am I
          responses:
            200:
              description: The signed-in user
            401:
              description: Not signed in
        """
        return one(accounts.me(g.actor))

    @expose("/profile", methods=["PATCH"])
    @authenticated
    def profile(self):
        """Change name, email or password (a new password needs the current one and ends the
        other sessions).
        ---
        patch:
          summary: Update my profile
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ProfilePatchSchema'
          responses:
            200:
              description: Updated
            400:
              description: Invalid input or wrong current password
            401:
              description: Not signed in
            409:
              description: The email is taken
        """
        data = load_json(ProfilePatchSchema())
        user = accounts.update_profile(
            g.actor, data, current_session_id=current_session_id(), info=request_info()
        )
        return one(accounts.me(user))

    @expose("/sessions", methods=["GET"])
    @authenticated
    def list_sessions(self):
        """The caller's signed-in browsers.
        ---
        get:
          summary: My sessions
          responses:
            200:
              description: Sessions, the current one flagged
            401:
              description: Not signed in
        """
        current = current_session_id()
        rows = sessions.list_sessions(g.actor.id)
        return many([_session_out(row, current) for row in rows])

    @expose("/sessions/<int:session_id>", methods=["DELETE"])
    @authenticated
    def revoke_session(self, session_id: int):
        """Sign out one of my sessions.
        ---
        delete:
          summary: Revoke a session
          parameters:
          - in: path
            name: session_id
            required: true
            schema:
              type: integer
          responses:
            204:
              description: Revoked
            401:
              description: Not signed in
            404:
              description: Not one of my sessions
        """
        user = g.actor
        if not sessions.revoke_session(user.id, session_id):
            raise NotFound("Session not found.")
        activity.record_account_event(
            "auth.session.revoke",
            user,
            entity_type="session",
            entity_id=session_id,
            info=request_info(),
        )
        db.session.commit()
        return no_content()

    @expose("/api-keys", methods=["GET"])
    @authenticated
    def list_api_keys(self):
        """My API keys (never the keys themselves).
        ---
        get:
          summary: My API keys
          responses:
            200:
              description: Active keys
            401:
              description: Not signed in
        """
        sm = current_app.appbuilder.sm
        keys = [k for k in sm.find_api_keys_for_user(g.actor.id) if k.revoked_on is None]
        return many([_api_key_out(k) for k in keys])

    @expose("/api-keys", methods=["POST"])
    @authenticated
    def create_api_key(self):
        """Create an API key; the key is shown only in this answer.
        ---
        post:
          summary: Create an API key
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ApiKeyPostSchema'
          responses:
            201:
              description: Created; `key` is shown this once
            401:
              description: Not signed in
            403:
              description: API keys cannot create API keys
        """
        if g.get("auth_method") == "api_key":
            raise Forbidden("Sign in to create API keys; a key cannot create keys.")
        data = load_json(ApiKeyPostSchema())
        sm = current_app.appbuilder.sm
        created = sm.create_api_key(g.actor, data["name"])
        model = sm.api_key_model
        key = db.session.scalar(select(model).where(model.uuid == created["uuid"]))
        activity.record_account_event(
            "auth.api_key.create",
            g.actor,
            entity_type="api_key",
            entity_id=key.id,
            details={"name": key.name},
            info=request_info(),
        )
        db.session.commit()
        return one({**_api_key_out(key), "key": created["key"]}, 201)

    @expose("/api-keys/<int:key_id>", methods=["DELETE"])
    @authenticated
    def revoke_api_key(self, key_id: int):
        """Revoke one of my API keys; it stops working at once.
        ---
        delete:
          summary: Revoke an API key
          parameters:
          - in: path
            name: key_id
            required: true
            schema:
              type: integer
          responses:
            204:
              description: Revoked
            401:
              description: Not signed in
            404:
              description: Not one of my keys
        """
        sm = current_app.appbuilder.sm
        model = sm.api_key_model
        key = db.session.scalar(
            select(model).where(model.id == key_id, model.user_id == g.actor.id)
        )
        if key is None or key.revoked_on is not None:
            raise NotFound("API key not found.")
        sm.revoke_api_key(key.uuid)
        activity.record_account_event(
            "auth.api_key.revoke",
            g.actor,
            entity_type="api_key",
            entity_id=key.id,
            details={"name": key.name},
            info=request_info(),
        )
        db.session.commit()
        return no_content()


__all__ = ["AuthApi", "require_actor"]
