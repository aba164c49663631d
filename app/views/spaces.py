"""Spaces and libraries (api.md "Spaces and libraries")."""

from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose
from marshmallow import fields

from app.models.tenancy import Library, Space, SpaceMembership
from app.schemas.accounts import (
    ConfirmNameSchema,
    LibraryDeleteSchema,
    LibraryPatchSchema,
    LibraryPostSchema,
    LibrarySelectSchema,
    MemberRolePatchSchema,
    SpaceArgsSchema,
    SpacePostSchema,
    iso,
)
from app.services import tenancy
from app.views.common import (
    BoxsetApi,
    authenticated,
    load_args,
    load_json,
    many,
    no_content,
    one,
    request_info,
)


def space_out(space: Space, role: str | None) -> dict:
    return {
        "id": space.id,
        "name": space.name,
        "role": role,
        "created_at": iso(space.created_at),
        "updated_at": iso(space.updated_at),
    }


def library_out(library: Library) -> dict:
    return {
        "id": library.id,
        "space_id": library.space_id,
        "name": library.name,
        "description": library.description,
        "created_by": library.created_by,
        "created_at": iso(library.created_at),
        "updated_at": iso(library.updated_at),
        "archived_at": iso(library.archived_at),
    }


def member_out(user, member: SpaceMembership) -> dict:
    return {
        "user_id": user.id,
        "email": user.email,
        "name": user.name,
        "role": member.role,
        "joined_at": iso(member.created_at),
        "last_login_at": iso(user.last_login),
    }


def scope_out(scope: tenancy.Scope) -> dict:
    return {
        "id": scope.user_id,
        "active_space_id": scope.space_id,
        "active_library_id": scope.library_id,
        "role": scope.role,
    }


class LibraryListArgsSchema(SpaceArgsSchema):
    include_archived = fields.Boolean(load_default=False)


class SpacesApi(BoxsetApi):
    resource_name = "spaces"
    route_base = "/api/spaces"
    openapi_spec_tag = "Spaces"
    openapi_spec_component_schemas = (SpacePostSchema, ConfirmNameSchema, MemberRolePatchSchema)

    @expose("", methods=["GET"])
    @authenticated
    def list_spaces(self):
        """The spaces I belong to, with my role in each.
        ---
        get:
          summary: My spaces
          responses:
            200:
              description: Spaces
            401:
              description: Not signed in
        """
        rows = tenancy.user_spaces(g.actor)
        return many([space_out(space, role) for space, role in rows])

    @expose("", methods=["POST"])
    @authenticated
    def create_space(self):
        """Create a space; I become its owner and it becomes my active space.
        ---
        post:
          summary: Create a space
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/SpacePostSchema'
          responses:
            201:
              description: Created
            400:
              description: Invalid input
            401:
              description: Not signed in
        """
        data = load_json(SpacePostSchema())
        space = tenancy.create_space(g.actor, data["name"], request_info())
        return one(space_out(space, "owner"), 201)

    @expose("/<int:space_id>", methods=["PATCH"])
    @authenticated
    def rename_space(self, space_id: int):
        """Rename a space (space admin).
        ---
        patch:
          summary: Rename a space
          parameters:
          - {in: path, name: space_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/SpacePostSchema'
          responses:
            200:
              description: Renamed
            400:
              description: Invalid input
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: Not a space of mine
        """
        tenancy.resolve_scope(g.actor, space_id=space_id)  # 404 before input errors
        data = load_json(SpacePostSchema())
        space = tenancy.rename_space(g.actor, space_id, data["name"], request_info())
        member = tenancy.membership(g.actor.id, space.id)
        return one(space_out(space, member.role if member else None))

    @expose("/<int:space_id>", methods=["DELETE"])
    @authenticated
    def delete_space(self, space_id: int):
        """Delete a space and everything in it (owner; the exact name must be confirmed).
        ---
        delete:
          summary: Delete a space
          parameters:
          - {in: path, name: space_id, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ConfirmNameSchema'
          responses:
            204:
              description: Deleted
            400:
              description: Missing or wrong confirm_name
            401:
              description: Not signed in
            403:
              description: Only an owner can delete a space
            404:
              description: Not a space of mine
        """
        data = load_json(ConfirmNameSchema())
        tenancy.delete_space(g.actor, space_id, data["confirm_name"], request_info())
        return no_content()

    @expose("/<int:space_id>/select", methods=["POST"])
    @authenticated
    def select_space(self, space_id: int):
        """Make this my active space (and its first library my active library).
        ---
        post:
          summary: Switch space
          parameters:
          - {in: path, name: space_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The new active scope
            401:
              description: Not signed in
            404:
              description: Not a space of mine
        """
        scope = tenancy.select_space(g.actor, space_id, request_info())
        return one(scope_out(scope))

    @expose("/<int:space_id>/members", methods=["GET"])
    @authenticated
    def list_members(self, space_id: int):
        """Members of a space and their roles (space admin).
        ---
        get:
          summary: Space members
          parameters:
          - {in: path, name: space_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: Members
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: Not a space of mine
        """
        rows = tenancy.list_members(g.actor, space_id)
        return many([member_out(user, member) for user, member in rows])

    @expose("/<int:space_id>/members/<int:user_id>", methods=["PATCH"])
    @authenticated
    def change_member(self, space_id: int, user_id: int):
        """Change a member's role (space admin; owners only by an owner).
        ---
        patch:
          summary: Change a member's role
          parameters:
          - {in: path, name: space_id, required: true, schema: {type: integer}}
          - {in: path, name: user_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/MemberRolePatchSchema'
          responses:
            200:
              description: Changed
            400:
              description: Invalid role
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: No such member
            409:
              description: The last owner cannot be demoted
        """
        tenancy.resolve_scope(g.actor, space_id=space_id)  # 404 before input errors
        data = load_json(MemberRolePatchSchema())
        member = tenancy.change_member_role(
            g.actor, space_id, user_id, data["role"], request_info()
        )
        return one({"id": member.user_id, "user_id": member.user_id, "role": member.role})

    @expose("/<int:space_id>/members/<int:user_id>", methods=["DELETE"])
    @authenticated
    def remove_member(self, space_id: int, user_id: int):
        """Remove a member (space admin), or leave the space (my own id).
        ---
        delete:
          summary: Remove a member or leave
          parameters:
          - {in: path, name: space_id, required: true, schema: {type: integer}}
          - {in: path, name: user_id, required: true, schema: {type: integer}}
          responses:
            204:
              description: Removed
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: No such member
            409:
              description: The last owner cannot leave
        """
        tenancy.remove_member(g.actor, space_id, user_id, request_info())
        return no_content()


class LibrariesApi(BoxsetApi):
    resource_name = "libraries"
    route_base = "/api/libraries"
    openapi_spec_tag = "Libraries"
    openapi_spec_component_schemas = (
        LibraryPostSchema,
        LibraryPatchSchema,
        LibrarySelectSchema,
        LibraryDeleteSchema,
    )

    @expose("", methods=["GET"])
    @authenticated
    def list_libraries(self):
        """Libraries of my active space (or of `space_id`).
        ---
        get:
          summary: Libraries
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          - {in: query, name: include_archived, schema: {type: boolean}}
          responses:
            200:
              description: Libraries
            400:
              description: Invalid parameters
            401:
              description: Not signed in
            404:
              description: Not a space of mine
        """
        args = load_args(LibraryListArgsSchema())
        scope = tenancy.resolve_scope(g.actor, space_id=args.get("space_id"))
        libraries = tenancy.list_libraries(scope, include_archived=args["include_archived"])
        return many([library_out(lib) for lib in libraries], space_id=scope.space_id)

    @expose("", methods=["POST"])
    @authenticated
    def create_library(self):
        """Create a library in my active space (space admin).
        ---
        post:
          summary: Create a library
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/LibraryPostSchema'
          responses:
            201:
              description: Created
            400:
              description: Invalid input
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            409:
              description: The name is taken in this space
        """
        args = load_args(LibraryListArgsSchema())
        scope = tenancy.resolve_scope(g.actor, space_id=args.get("space_id"))
        data = load_json(LibraryPostSchema())
        library = tenancy.create_library(scope, data["name"], data["description"], request_info())
        return one(library_out(library), 201)

    @expose("/<int:library_id>", methods=["PATCH"])
    @authenticated
    def update_library(self, library_id: int):
        """Rename or describe a library (space admin).
        ---
        patch:
          summary: Update a library
          parameters:
          - {in: path, name: library_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/LibraryPatchSchema'
          responses:
            200:
              description: Updated
            400:
              description: Invalid input
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: Not a library of mine
            409:
              description: The name is taken in this space
        """
        scope = tenancy.resolve_scope(g.actor, library_id=library_id)
        data = load_json(LibraryPatchSchema())
        library = tenancy.update_library(scope, library_id, data, request_info())
        return one(library_out(library))

    @expose("/select", methods=["POST"])
    @authenticated
    def select_library(self):
        """Make a library my active one (its space becomes my active space).
        ---
        post:
          summary: Switch library
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/LibrarySelectSchema'
          responses:
            200:
              description: The new active scope
            400:
              description: Invalid input
            401:
              description: Not signed in
            404:
              description: Not a library of mine
            409:
              description: The library is archived
        """
        data = load_json(LibrarySelectSchema())
        scope = tenancy.select_library(g.actor, data["library_id"], request_info())
        return one(scope_out(scope))

    def _set_archived(self, library_id: int, *, archived: bool):
        scope = tenancy.resolve_scope(g.actor, library_id=library_id)  # 404 before input errors
        data = load_json(ConfirmNameSchema())
        library = tenancy.set_library_archived(
            scope, library_id, data["confirm_name"], archived, request_info()
        )
        return one(library_out(library))

    @expose("/<int:library_id>/archive", methods=["POST"])
    @authenticated
    def archive_library(self, library_id: int):
        """Archive a library (space admin; type its exact name).
        ---
        post:
          summary: Archive a library
          parameters:
          - {in: path, name: library_id, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ConfirmNameSchema'
          responses:
            200:
              description: Archived
            400:
              description: Missing or wrong confirm_name
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: Not a library of mine
        """
        return self._set_archived(library_id, archived=True)

    @expose("/<int:library_id>/unarchive", methods=["POST"])
    @authenticated
    def unarchive_library(self, library_id: int):
        """Bring an archived library back (space admin; type its exact name).
        ---
        post:
          summary: Unarchive a library
          parameters:
          - {in: path, name: library_id, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ConfirmNameSchema'
          responses:
            200:
              description: Unarchived
            400:
              description: Missing or wrong confirm_name
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: Not a library of mine
        """
        return self._set_archived(library_id, archived=False)

    @expose("/<int:library_id>", methods=["DELETE"])
    @authenticated
    def delete_library(self, library_id: int):
        """Delete a library; its items are moved to another library or deleted, as chosen.
        ---
        delete:
          summary: Delete a library
          parameters:
          - {in: path, name: library_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/LibraryDeleteSchema'
          responses:
            204:
              description: Deleted
            400:
              description: Missing or wrong confirm_name, or no choice for the items
            401:
              description: Not signed in
            403:
              description: My role does not allow it
            404:
              description: Not a library of mine
        """
        scope = tenancy.resolve_scope(g.actor, library_id=library_id)
        data = load_json(LibraryDeleteSchema())
        tenancy.delete_library(
            scope,
            library_id,
            confirm_name=data["confirm_name"],
            media=data["media"],
            target_library_id=data["target_library_id"],
            info=request_info(),
        )
        return no_content()
