"""Provider look-ups for the add form and the import tabs (api.md "Media": search-tmdb, TMDB
details, lookup-upc, recognize-cover) and the integration Test buttons."""

from __future__ import annotations

from flask import g, jsonify
from flask_appbuilder.api import expose
from marshmallow import fields, validate

from app.errors import Invalid, NotFound
from app.schemas.accounts import INT32, SpaceArgsSchema, StrictSchema, Trimmed
from app.services import flags, lookups, tenancy
from app.views.common import (
    BoxsetApi,
    authenticated,
    load_args,
    load_json,
    read_upload,
    space_scope,
)

PROVIDERS = ("tmdb", "barcode", "vision", "plex")


class SearchTmdbSchema(StrictSchema):
    title = Trimmed(required=True, validate=validate.Length(1, 300))
    year = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1888, 2100))
    media_type = fields.String(load_default="movie", validate=validate.OneOf(("movie", "tv")))


class LookupUpcSchema(StrictSchema):
    upc = Trimmed(required=True, validate=validate.Length(1, 32))


class DetailsArgsSchema(SpaceArgsSchema):
    media_type = fields.String(load_default="movie", validate=validate.OneOf(("movie", "tv")))


def _result(result):
    return jsonify({"result": result})


class LookupsApi(BoxsetApi):
    resource_name = "lookups"
    route_base = "/api/media"
    openapi_spec_tag = "Media"
    openapi_spec_component_schemas = (SearchTmdbSchema, LookupUpcSchema)
    rate_limits = [("external_api", None)]

    @expose("/search-tmdb", methods=["POST"])
    @authenticated
    def search_tmdb(self):
        """Search TMDB for a movie or a TV show.
        ---
        post:
          summary: Search TMDB
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/SearchTmdbSchema'
          responses:
            200:
              description: "`{result: [{tmdb_id, tmdb_media_type, title, year, poster_url, …}]}`"
            400:
              description: Invalid fields
            401:
              description: Not signed in
            502:
              description: TMDB failed (the message says how)
            503:
              description: TMDB search is turned off
        """
        flags.require("tmdb_search_enabled")
        scope = space_scope()  # another household's space is 404 before anything else
        body = load_json(SearchTmdbSchema())
        return _result(
            lookups.search_tmdb(scope, body["title"], body.get("year"), body["media_type"])
        )

    @expose("/tmdb/<int:tmdb_id>/details", methods=["GET"])
    @authenticated
    def tmdb_details(self, tmdb_id: int):
        """A TMDB title as item fields (genres, directors, cast, seasons for TV).
        ---
        get:
          summary: TMDB details
          parameters:
          - {in: path, name: tmdb_id, required: true, schema: {type: integer}}
          - {in: query, name: media_type, schema: {type: string, enum: [movie, tv]}}
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: "`{result: {…item fields}}`"
            400:
              description: Invalid parameters
            401:
              description: Not signed in
            404:
              description: TMDB has no such title
            502:
              description: TMDB failed
            503:
              description: TMDB search is turned off
        """
        flags.require("tmdb_search_enabled")
        args = load_args(DetailsArgsSchema())
        if not 1 <= tmdb_id <= INT32:
            raise Invalid({"tmdb_id": ["Not a TMDB id."]})
        scope = tenancy.resolve_scope(g.actor, space_id=args.get("space_id"))
        return _result(lookups.tmdb_details(scope, tmdb_id, args["media_type"]))

    @expose("/lookup-upc", methods=["POST"])
    @authenticated
    def lookup_upc(self):
        """Look a barcode up: the products it names and their best TMDB match.
        ---
        post:
          summary: Look up a barcode
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/LookupUpcSchema'
          responses:
            200:
              description: "`{result: {upc, provider, matches: [{title, image, tmdb}]}}`"
            400:
              description: Not a barcode
            401:
              description: Not signed in
            502:
              description: The barcode service failed
            503:
              description: Barcode lookup is turned off
        """
        flags.require("lookup_upc_enabled")
        scope = space_scope()
        body = load_json(LookupUpcSchema())
        return _result(lookups.lookup_upc(scope, body["upc"]))

    @expose("/recognize-cover", methods=["POST"])
    @authenticated
    def recognize_cover(self):
        """Read the title off a photo of a cover (OCR), then find it on TMDB.
        ---
        post:
          summary: Recognise a cover photo
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
                    cover: {type: string, format: binary}
          responses:
            200:
              description: "`{result: {extracted_text, title_candidates, tmdb_matches}}`"
            400:
              description: No file in the `cover` field
            401:
              description: Not signed in
            413:
              description: Too large
            415:
              description: Not an image
            502:
              description: The OCR service failed
            503:
              description: Cover recognition is turned off
        """
        flags.require("recognize_cover_enabled")
        scope = space_scope()
        scope.require("member", "look titles up")  # before the photo is read and decoded
        data, _name = read_upload("cover", "photo")
        return _result(lookups.recognize_cover(scope, data))


class IntegrationTestsApi(BoxsetApi):
    resource_name = "integration_tests"
    route_base = "/api/admin/settings/integrations"
    openapi_spec_tag = "Administration"
    rate_limits = [("external_api", None)]

    @expose("/test-<provider>", methods=["POST"])
    @authenticated
    def test_provider(self, provider: str):
        """Check a provider with the space's settings (space admins).
        ---
        post:
          summary: Test an integration
          parameters:
          - in: path
            name: provider
            required: true
            schema: {type: string, enum: [tmdb, barcode, vision, plex]}
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: "`{result: {ok, authenticated, status, detail, sections?}}`"
            401:
              description: Not signed in
            403:
              description: Space admins only
            404:
              description: No such provider
        """
        if provider not in PROVIDERS:
            raise NotFound("No such integration.")
        return _result(lookups.test_provider(space_scope(), provider))
