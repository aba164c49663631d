"""Input schemas for the near-duplicates screen: listing duplicate groups, merging, undoing."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from app.schemas.accounts import Id, SpaceArgsSchema, StrictSchema
from app.services.merge import MAX_MERGE, REASONS


class DuplicatesArgsSchema(SpaceArgsSchema):
    reason = fields.String(validate=validate.OneOf(REASONS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class MergePostSchema(StrictSchema):
    keep_id = Id(required=True)
    merge_ids = fields.List(Id(), required=True, validate=validate.Length(1, MAX_MERGE))

    @validates_schema
    def _distinct(self, data: dict[str, Any], **_kw: Any) -> None:
        merge_ids = data.get("merge_ids") or []
        if len(set(merge_ids)) != len(merge_ids):
            raise ValidationError("Name each item once.", "merge_ids")
        if data.get("keep_id") in merge_ids:
            raise ValidationError("The kept item cannot also be merged away.", "merge_ids")
