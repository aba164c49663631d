"""Input and output of the feature flags (api.md "Administration")."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from app.models.base import iso
from app.schemas.accounts import StrictSchema
from app.services.flags import FlagState


class JsonBool(fields.Boolean):
    """A JSON true/false only: "false" or 0 are too easy to send by mistake."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Send true or false.")
        return value


class FeatureFlagPatchSchema(StrictSchema):
    enabled = JsonBool(required=True)


def flag_out(state: FlagState) -> dict[str, Any]:
    return {
        "key": state.key,
        "enabled": state.enabled,
        "stored_enabled": state.stored_enabled,
        "env_override": state.env_override,
        "description": state.description,
        "updated_at": iso(state.updated_at),
        "updated_by": state.updated_by,
        "updated_by_email": state.updated_by_email,
    }
