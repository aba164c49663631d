"""Administration of integrations and feature flags (api.md "Administration"): a space's
provider settings (space admins; the instance Admin anywhere) and the instance's feature flags
(instance Admin only)."""

from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose

from app.schemas.flags import FeatureFlagPatchSchema, flag_out
from app.schemas.integrations import IntegrationSettingsPutSchema, settings_out
from app.services import flags, integrations
from app.views.common import (
    BoxsetApi,
    authenticated,
    load_json,
    many,
    one,
    request_info,
    space_scope,
)


class IntegrationSettingsApi(BoxsetApi):
    resource_name = "integration_settings"
    route_base = "/api/admin/settings"
    openapi_spec_tag = "Administration"
    openapi_spec_component_schemas = (IntegrationSettingsPutSchema,)
    rate_limits = [("admin", None)]

    @expose("/integrations", methods=["GET"])
    @authenticated
    def get_integrations(self):
        """The space's provider settings: effective values; secrets only as their state.
        ---
        get:
          summary: Integration settings
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          responses:
            200:
              description: >-
                `{result: {tmdb_api_url, tmdb_api_key: {set, last4, source}, …,
                decrypt_health: {ok, failed}}}`
            401:
              description: Not signed in
            403:
              description: Space admins only
            404:
              description: No such space (or not yours)
        """
        scope = space_scope()
        view = integrations.read_settings(scope, request_info())
        return one({"id": scope.space_id, **settings_out(view)})

    @expose("/integrations", methods=["PUT"])
    @authenticated
    def put_integrations(self):
        """Change the settings sent (null clears one; the environment default applies).
        ---
        put:
          summary: Change integration settings
          parameters:
          - {in: query, name: space_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/IntegrationSettingsPutSchema'
          responses:
            200:
              description: The settings after the change, as GET answers them
            400:
              description: Invalid input
            401:
              description: Not signed in
            403:
              description: Space admins only
            404:
              description: No such space (or not yours)
        """
        scope = space_scope()
        scope.require("admin", "manage integrations")  # 403 before input errors
        changes = load_json(IntegrationSettingsPutSchema())
        view = integrations.update_settings(scope, changes, request_info())
        return one({"id": scope.space_id, **settings_out(view)})


class FeatureFlagsApi(BoxsetApi):
    resource_name = "feature_flags"
    route_base = "/api/admin/feature-flags"
    openapi_spec_tag = "Administration"
    openapi_spec_component_schemas = (FeatureFlagPatchSchema,)
    rate_limits = [("admin", None)]

    @expose("", methods=["GET"])
    @authenticated
    def list_flags(self):
        """Every feature flag, with what the environment forces.
        ---
        get:
          summary: Feature flags
          responses:
            200:
              description: >-
                `{count, read_only, result: [{key, enabled, stored_enabled, env_override,
                description, updated_at, updated_by, updated_by_email}]}`
            401:
              description: Not signed in
            403:
              description: Instance Admin only
        """
        rows = [flag_out(state) for state in flags.list_flags(g.actor)]
        return many(rows, read_only=flags.read_only())

    @expose("/<key>", methods=["PATCH"])
    @authenticated
    def set_flag(self, key: str):
        """Switch a feature flag on or off.
        ---
        patch:
          summary: Switch a feature flag
          parameters:
          - {in: path, name: key, required: true, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/FeatureFlagPatchSchema'
          responses:
            200:
              description: The flag after the change
            400:
              description: Invalid input
            401:
              description: Not signed in
            403:
              description: Instance Admin only
            404:
              description: No such flag
            409:
              description: Forced by the environment, or flags are read-only
        """
        flags.get_flag(g.actor, key)  # 403 and 404 before input errors
        data = load_json(FeatureFlagPatchSchema())
        state = flags.set_flag(g.actor, key, data["enabled"], request_info())
        return one({"id": state.key, **flag_out(state)})
