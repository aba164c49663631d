"""The near-duplicates API: likely duplicates in a space, merging them into one item, and
undoing a merge (also reachable from the merge's activity entry)."""

from __future__ import annotations

from flask import g, jsonify
from flask_appbuilder.api import expose

from app.schemas.accounts import SpaceArgsSchema
from app.schemas.merge import DuplicatesArgsSchema, MergePostSchema
from app.services import media, merge, tenancy
from app.views.common import BoxsetApi, authenticated, load_args, load_json, one, request_info


class DuplicatesApi(BoxsetApi):
    resource_name = "duplicates"
    route_base = "/api/media"
    openapi_spec_tag = "Duplicates"
    openapi_spec_component_schemas = (MergePostSchema,)
    rate_limits = [
        ("media_read", ("GET", "HEAD")),
        ("media_write", ("POST",)),
    ]

    @expose("/duplicates", methods=["GET"])
    @authenticated
    def list_duplicates(self):
        """Groups of likely duplicates in the active space (or `space_id`): the same TMDB id,
        the same UPC, or the same normalised title.
        ---
        get:
          summary: Likely duplicates
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          - {in: query, name: reason, schema: {type: string, enum: [tmdb, upc, title]}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 200}}
          responses:
            200:
              description: A page of groups, each `{reason, reasons, key, size, items}`
            400:
              description: Invalid parameters
            401:
              description: Not signed in
            404:
              description: Not a space of mine
        """
        args = load_args(DuplicatesArgsSchema())
        scope = tenancy.resolve_scope(g.actor, space_id=args.get("space_id"), library_id="all")
        page = merge.find_duplicates(
            scope, reason=args.get("reason"), page=args["page"], limit=args["limit"]
        )
        return jsonify(
            {
                "count": page.count,
                "result": page.groups,
                "page": page.page,
                "limit": page.limit,
                "total_pages": page.total_pages,
                "has_more": page.has_more,
            }
        )

    @expose("/merge", methods=["POST"])
    @authenticated
    def merge_media(self):
        """Merge items into the one kept: their variants, seasons, metadata and episodes move
        onto it and they are deleted. The space is `space_id`, else the kept item's space.
        ---
        post:
          summary: Merge duplicates
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/MergePostSchema'
          responses:
            200:
              description: '`{id, result: the kept item, merge_id}`'
            400:
              description: Invalid body, or a TV series merged with something else
            401:
              description: Not signed in
            403:
              description: Not allowed to change one of the items
            404:
              description: An item (or the space) is not mine
        """
        space_id = load_args(SpaceArgsSchema()).get("space_id")
        scope = None
        if space_id is not None:  # 404 for a space that is not mine, before input errors
            scope = tenancy.resolve_scope(g.actor, space_id=space_id, library_id="all")
        data = load_json(MergePostSchema())
        if scope is None:
            scope = media.scope_for_item(g.actor, data["keep_id"])
        kept, record = merge.merge_media(scope, data["keep_id"], data["merge_ids"], request_info())
        return jsonify({"id": kept.id, "result": media.detail_out(kept), "merge_id": record.id})

    @expose("/merges/<int:merge_id>", methods=["GET"])
    @authenticated
    def get_merge(self, merge_id: int):
        """One merge: what was kept and merged, and whether the caller can still undo it.
        ---
        get:
          summary: Get a merge
          parameters:
          - {in: path, name: merge_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The merge
            401:
              description: Not signed in
            404:
              description: Not a merge in a space of mine
        """
        scope = merge.scope_for_merge(g.actor, merge_id)
        return one(merge.merge_out(merge.get_merge(scope, merge_id), scope))

    @expose("/merges/<int:merge_id>/undo", methods=["POST"])
    @authenticated
    def undo_merge(self, merge_id: int):
        """Undo a merge: the merged items come back with their ids, and what moved goes back.
        ---
        post:
          summary: Undo a merge
          parameters:
          - {in: path, name: merge_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: '`{id, result: {merge_id, kept_id, restored_ids}}`'
            401:
              description: Not signed in
            403:
              description: Neither whoever merged nor a space admin
            404:
              description: Not a merge in a space of mine
            409:
              description: Already undone, or an item id is taken meanwhile
        """
        scope = merge.scope_for_merge(g.actor, merge_id)
        record, restored = merge.undo_merge(scope, merge_id, request_info())
        return jsonify(
            {
                "id": record.id,
                "result": {
                    "merge_id": record.id,
                    "kept_id": record.kept_id,
                    "restored_ids": restored,
                },
            }
        )


__all__ = ["DuplicatesApi"]
