"""Administration: members, invitations and the activity log (api.md "Administration")."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from sqlalchemy import select

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.tenancy import Invite
from app.schemas.accounts import (
    ActivityArgsSchema,
    AdminRolePatchSchema,
    InviteListArgsSchema,
    InvitePostSchema,
    iso,
)
from app.services import accounts, activity, invites, tenancy
from app.views.common import (
    BoxsetApi,
    authenticated,
    load_args,
    load_json,
    many,
    no_content,
    one,
    request_info,
    space_scope,
)


def _users_by_id(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(BoxsetUser.id, BoxsetUser.email).where(BoxsetUser.id.in_(wanted))
    )
    return {user_id: email for user_id, email in rows}


def invite_out(invite: Invite, emails: dict[int, str], base_url: str | None = None) -> dict:
    return {
        "id": invite.id,
        "space_id": invite.space_id,
        "email": invite.email,
        "role": invite.role,
        "status": invites.invite_status(invite),
        "created_at": iso(invite.created_at),
        "expires_at": iso(invite.expires_at),
        "created_by": invite.created_by,
        "created_by_email": emails.get(invite.created_by),
        "used_at": iso(invite.used_at),
        "used_by": invite.used_by,
        "used_by_email": emails.get(invite.used_by),
        "revoked_at": iso(invite.revoked_at),
    }


def activity_out(entry) -> dict:
    return {
        "id": entry.id,
        "created_at": iso(entry.created_at),
        "user_id": entry.user_id,
        "user_email": entry.user_email,
        "space_id": entry.space_id,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "details": entry.details,
        "ip": entry.ip,
        "request_id": entry.request_id,
    }


class AdminApi(BoxsetApi):
    resource_name = "admin"
    route_base = "/api/admin"
    openapi_spec_tag = "Administration"
    openapi_spec_component_schemas = (AdminRolePatchSchema, InvitePostSchema)
    rate_limits = [("admin", None)]

    @expose("/users", methods=["GET"])
    @authenticated
    def list_users(self):
        """Members of the active space with their roles (instance Admin: every account).
        ---
        get:
          summary: Members
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: Members
            401:
              description: Not signed in
            403:
              description: Space admins only
        """
        scope = space_scope()
        rows = accounts.list_users(scope)
        return many(
            [
                {**accounts.public_user(user), "space_role": role, "space_id": scope.space_id}
                for user, role in rows
            ]
        )

    @expose("/users/<int:user_id>/summary", methods=["GET"])
    @authenticated
    def user_summary(self, user_id: int):
        """A member's last sign-in and contributions in the active space.
        ---
        get:
          summary: Member summary
          parameters:
          - {in: path, name: user_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: Summary
            401:
              description: Not signed in
            403:
              description: Space admins only
            404:
              description: Not a member of this space
        """
        summary = accounts.user_summary(space_scope(), user_id)
        summary = {
            **summary,
            "last_login_at": iso(summary["last_login_at"]),
            "last_edit_at": iso(summary["last_edit_at"]),
        }
        return one({"id": user_id, **summary})

    @expose("/users/<int:user_id>/role", methods=["PATCH"])
    @authenticated
    def set_role(self, user_id: int):
        """Change a member's space role and/or (instance Admin only) instance role.
        ---
        patch:
          summary: Change roles
          parameters:
          - {in: path, name: user_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/AdminRolePatchSchema'
          responses:
            200:
              description: Changed
            400:
              description: Invalid role
            401:
              description: Not signed in
            403:
              description: Not allowed
            404:
              description: Not a member of this space
            409:
              description: Last owner or last instance Admin
        """
        scope = space_scope()
        accounts.visible_user(scope, user_id)  # 404 before input errors
        data = load_json(AdminRolePatchSchema())
        user = accounts.set_roles(
            scope,
            user_id,
            role=data.get("role"),
            new_instance_role=data.get("instance_role"),
            info=request_info(),
        )
        member = tenancy.membership(user.id, scope.space_id)
        return one({**accounts.public_user(user), "space_role": member.role if member else None})

    @expose("/users/<int:user_id>", methods=["DELETE"])
    @authenticated
    def delete_user(self, user_id: int):
        """Remove a member from the space (instance Admin: delete the account).
        ---
        delete:
          summary: Remove a member
          parameters:
          - {in: path, name: user_id, required: true, schema: {type: integer}}
          responses:
            204:
              description: Removed
            401:
              description: Not signed in
            403:
              description: Not allowed
            404:
              description: Not a member of this space
            409:
              description: Yourself, the last owner or the last instance Admin
        """
        accounts.delete_user(space_scope(), user_id, request_info())
        return no_content()

    @expose("/invites", methods=["GET"])
    @authenticated
    def list_invites(self):
        """Invitations of the active space (active by default; `status=all` for history).
        ---
        get:
          summary: Invitations
          parameters:
          - in: query
            name: status
            schema: {type: string, enum: [active, used, revoked, expired, all]}
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: Invitations
            400:
              description: Invalid status
            401:
              description: Not signed in
            403:
              description: Space admins only
        """
        args = load_args(InviteListArgsSchema())
        rows = invites.list_invites(space_scope(), args["status"])
        emails = _users_by_id({i.created_by for i in rows} | {i.used_by for i in rows})
        return many([invite_out(i, emails) for i in rows])

    @expose("/invites", methods=["POST"])
    @authenticated
    def create_invite(self):
        """Invite someone to the active space; the token and link are shown only here.
        ---
        post:
          summary: Create an invitation
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/InvitePostSchema'
          responses:
            201:
              description: Created; `token` and `invite_url` are shown this once
            400:
              description: Invalid input
            401:
              description: Not signed in
            403:
              description: Space admins only
        """
        scope = space_scope()
        data = load_json(InvitePostSchema())
        invite, raw = invites.create_invite(
            scope,
            email=data["email"],
            role=data["role"],
            expires_in_days=data["expires_in_days"],
            info=request_info(),
        )
        emails = _users_by_id({invite.created_by})
        url = f"{request.host_url.rstrip('/')}/register?invite={raw}"
        return one({**invite_out(invite, emails), "token": raw, "invite_url": url}, 201)

    @expose("/invites/<int:invite_id>/revoke", methods=["PATCH"])
    @authenticated
    def revoke_invite(self, invite_id: int):
        """Revoke an unused invitation.
        ---
        patch:
          summary: Revoke an invitation
          parameters:
          - {in: path, name: invite_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: Revoked
            401:
              description: Not signed in
            403:
              description: Space admins only
            404:
              description: No such invitation in this space
            409:
              description: Already used, revoked or expired
        """
        invite = invites.revoke_invite(space_scope(), invite_id, request_info())
        emails = _users_by_id({invite.created_by, invite.used_by})
        return one(invite_out(invite, emails))

    @expose("/activity", methods=["GET"])
    @authenticated
    def list_activity(self):
        """The activity log of the active space, newest first (instance Admin: everything).
        ---
        get:
          summary: Activity log
          parameters:
          - {in: query, name: action, schema: {type: string}}
          - {in: query, name: entity, schema: {type: string}}
          - {in: query, name: userId, schema: {type: integer}}
          - {in: query, name: user_id, schema: {type: integer}}
          - {in: query, name: from, schema: {type: string, format: date-time}}
          - {in: query, name: to, schema: {type: string, format: date-time}}
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 500}}
          - {in: query, name: offset, schema: {type: integer, minimum: 0}}
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: Entries
            400:
              description: Invalid filter
            401:
              description: Not signed in
            403:
              description: Space admins only
        """
        args = load_args(ActivityArgsSchema())
        scope = space_scope()
        scope.require("admin", "see the activity log")
        space_ids = (
            None if scope.instance_admin and "space_id" not in request.args else [scope.space_id]
        )
        total, rows = activity.list_activity(
            space_ids=space_ids,
            action=args.get("action"),
            entity=args.get("entity"),
            user_id=args.get("userId") or args.get("user_id"),
            date_from=args.get("date_from"),
            date_to=args.get("date_to"),
            text=args.get("q"),
            limit=args["limit"],
            offset=args["offset"],
        )
        return many([activity_out(e) for e in rows], count=total)
