"""The catalog API (api.md "Media"): list, get, create, change, delete, seasons."""

from __future__ import annotations

from flask import current_app, g, jsonify
from flask_appbuilder.api import expose

from app.schemas.media import (
    MediaListArgsSchema,
    MediaPatchSchema,
    MediaPostSchema,
    SeasonsPutSchema,
)
from app.services import covers, media, tenancy
from app.views.common import (
    BoxsetApi,
    authenticated,
    load_args,
    load_json,
    no_content,
    one,
    read_upload,
    request_info,
)


def _scope(args: dict | None = None) -> tenancy.Scope:
    """The active space/library, or the `space_id`/`library_id` the request names."""
    args = args if args is not None else load_args(MediaListArgsSchema())
    library = args.get("library_id")
    library_id: int | str | None = None
    if library == "all":
        library_id = "all"
    elif library is not None:
        library_id = int(library)
    return tenancy.resolve_scope(g.actor, space_id=args.get("space_id"), library_id=library_id)


class MediaApi(BoxsetApi):
    resource_name = "media"
    route_base = "/api/media"
    openapi_spec_tag = "Media"
    openapi_spec_component_schemas = (MediaPostSchema, MediaPatchSchema, SeasonsPutSchema)
    rate_limits = [
        ("media_read", ("GET", "HEAD")),
        ("media_write", ("POST", "PUT", "PATCH", "DELETE")),
    ]

    @expose("", methods=["GET"])
    @authenticated
    def list_media(self):
        """Items of the active library (or `library_id`, or `library_id=all`), filtered,
        sorted, by page or by cursor.
        ---
        get:
          summary: Browse items
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 200}}
          - {in: query, name: cursor, schema: {type: string}}
          - in: query
            name: sort_by
            schema: {type: string, enum: [title, year, format, created_at, user_rating, rating]}
          - {in: query, name: sort_dir, schema: {type: string, enum: [asc, desc]}}
          - {in: query, name: search, schema: {type: string}}
          - in: query
            name: media_type
            schema: {type: string, enum: [movie, tv_series, tv_episode, other, tv]}
          - {in: query, name: format, schema: {type: string}}
          - {in: query, name: genre, schema: {type: string}}
          - {in: query, name: director, schema: {type: string}}
          - {in: query, name: actor, schema: {type: string}}
          - {in: query, name: year, schema: {type: integer}}
          - {in: query, name: year_min, schema: {type: integer}}
          - {in: query, name: year_max, schema: {type: integer}}
          - {in: query, name: rating_min, schema: {type: number}}
          - {in: query, name: rating_max, schema: {type: number}}
          - {in: query, name: user_rating_min, schema: {type: number}}
          - {in: query, name: user_rating_max, schema: {type: number}}
          - {in: query, name: resolution, schema: {type: string, enum: [sd, 720p, 1080p, 4k]}}
          - {in: query, name: library_id, schema: {type: string}}
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: A page of items
            400:
              description: Invalid parameters
            401:
              description: Not signed in
            404:
              description: Not a space or library of mine
        """
        args = load_args(MediaListArgsSchema())
        page = media.list_media(_scope(args), args)
        return jsonify(
            {
                "count": page.count,
                "result": page.items,
                "page": page.page,
                "limit": page.limit,
                "total_pages": page.total_pages,
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
            }
        )

    @expose("/upload-cover", methods=["POST"])
    @authenticated
    def upload_cover(self):
        """Upload a cover image (JPEG, PNG, WebP or GIF, checked by content); use the returned
        `cover_key` on an item.
        ---
        post:
          summary: Upload a cover
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [cover]
                  properties:
                    cover:
                      type: string
                      format: binary
          responses:
            201:
              description: Stored
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      cover_key: {type: string}
                      cover_url: {type: string}
            400:
              description: No file in the `cover` field
            401:
              description: Not signed in
            403:
              description: Viewers cannot upload
            413:
              description: Too large
            415:
              description: Not a supported image
        """
        scope = _scope()
        scope.require("member", "upload covers")
        data, _name = read_upload("cover", "image")
        key, url = covers.store_cover(data, current_app.config["MAX_CONTENT_LENGTH"])
        response = jsonify({"cover_key": key, "cover_url": url})
        response.status_code = 201
        return response

    @expose("/<int:media_id>", methods=["GET"])
    @authenticated
    def get_media(self, media_id: int):
        """One item with its variants and seasons.
        ---
        get:
          summary: Get an item
          parameters:
          - {in: path, name: media_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The item
            401:
              description: Not signed in
            404:
              description: Not an item of mine
        """
        scope = media.scope_for_item(g.actor, media_id)
        return one(media.detail_out(media.get_media(scope, media_id)))

    @expose("", methods=["POST"])
    @authenticated
    def create_media(self):
        """Add an item to the active library (or `library_id`).
        ---
        post:
          summary: Add an item
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/MediaPostSchema'
          responses:
            201:
              description: Added
            400:
              description: Invalid fields
            401:
              description: Not signed in
            403:
              description: Viewers cannot add items
        """
        scope = _scope()  # 404 for a space or library that is not mine, before input errors
        data = load_json(MediaPostSchema())
        item = media.create_media(scope, data, request_info())
        return one(media.detail_out(item), 201)

    @expose("/<int:media_id>", methods=["PATCH"])
    @authenticated
    def update_media(self, media_id: int):
        """Change an item (members: only what they added).
        ---
        patch:
          summary: Change an item
          parameters:
          - {in: path, name: media_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/MediaPatchSchema'
          responses:
            200:
              description: Changed
            400:
              description: Invalid fields
            401:
              description: Not signed in
            403:
              description: Added by someone else
            404:
              description: Not an item of mine
        """
        scope = media.scope_for_item(g.actor, media_id)  # 404 before input errors
        data = load_json(MediaPatchSchema())
        item = media.update_media(scope, media_id, data, request_info())
        return one(media.detail_out(item))

    @expose("/<int:media_id>", methods=["DELETE"])
    @authenticated
    def delete_media(self, media_id: int):
        """Delete an item (members: only what they added).
        ---
        delete:
          summary: Delete an item
          parameters:
          - {in: path, name: media_id, required: true, schema: {type: integer}}
          responses:
            204:
              description: Deleted
            401:
              description: Not signed in
            403:
              description: Added by someone else
            404:
              description: Not an item of mine
        """
        scope = media.scope_for_item(g.actor, media_id)
        media.delete_media(scope, media_id, request_info())
        return no_content()

    @expose("/<int:media_id>/seasons", methods=["PUT"])
    @authenticated
    def put_seasons(self, media_id: int):
        """Replace a TV series' seasons.
        ---
        put:
          summary: Set seasons
          parameters:
          - {in: path, name: media_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/SeasonsPutSchema'
          responses:
            200:
              description: The seasons
            400:
              description: Invalid seasons, or not a TV series
            401:
              description: Not signed in
            403:
              description: Added by someone else
            404:
              description: Not an item of mine
        """
        scope = media.scope_for_item(g.actor, media_id)
        data = load_json(SeasonsPutSchema())
        seasons = media.set_seasons(scope, media_id, data["seasons"], request_info())
        return one({"id": media_id, "seasons": [media.season_out(s) for s in seasons]})


__all__ = ["MediaApi"]
