"""Input schemas for accounts, households and the activity log, and their JSON output."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.models.base import iso
from app.models.tenancy import SPACE_ROLES

INT32 = 2**31 - 1
Id = lambda **kw: fields.Integer(strict=True, validate=validate.Range(1, INT32), **kw)  # noqa: E731
QueryId = lambda **kw: fields.Integer(validate=validate.Range(1, INT32), **kw)  # noqa: E731


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before it is validated."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


Name = lambda **kw: Trimmed(validate=validate.Length(1, 120), **kw)  # noqa: E731
# Emails double as Flask-AppBuilder usernames, which hold 128 characters.
Email = lambda **kw: fields.Email(validate=validate.Length(max=128), **kw)  # noqa: E731
Password = lambda **kw: fields.String(validate=validate.Length(8, 256), **kw)  # noqa: E731


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class RegisterPostSchema(StrictSchema):
    email = Email(required=True)
    password = Password(required=True)
    name = Name(required=True)
    invite_token = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=256)
    )


class LoginPostSchema(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(1, 320))
    password = fields.String(required=True, validate=validate.Length(1, 256))


class ProfilePatchSchema(StrictSchema):
    name = Name()
    email = Email()
    password = Password()
    current_password = fields.String(validate=validate.Length(max=256))

    @validates_schema
    def _current_password_with_password(self, data: dict, **_kw: Any) -> None:
        if "password" in data and not data.get("current_password"):
            raise ValidationError(
                "Enter your current password to set a new one.", "current_password"
            )


class ApiKeyPostSchema(StrictSchema):
    name = Trimmed(required=True, validate=validate.Length(1, 100))


class InviteAcceptSchema(StrictSchema):
    invite_token = fields.String(required=True, validate=validate.Length(1, 256))


class SpacePostSchema(StrictSchema):
    name = Name(required=True)


class ConfirmNameSchema(StrictSchema):
    confirm_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )


class LibraryPostSchema(StrictSchema):
    name = Name(required=True)
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )


class LibraryPatchSchema(StrictSchema):
    name = Name()
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))


class LibrarySelectSchema(StrictSchema):
    library_id = Id(required=True)


class LibraryDeleteSchema(ConfirmNameSchema):
    media = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(["move", "delete"])
    )
    target_library_id = Id(load_default=None, allow_none=True)


class MemberRolePatchSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(SPACE_ROLES))


class AdminRolePatchSchema(StrictSchema):
    role = fields.String(validate=validate.OneOf(SPACE_ROLES))
    instance_role = fields.String(validate=validate.OneOf(["Admin", "Member"]))

    @validates_schema
    def _something(self, data: dict, **_kw: Any) -> None:
        if not data:
            raise ValidationError("Send role and/or instance_role.", "role")


class InvitePostSchema(StrictSchema):
    email = Email(load_default=None, allow_none=True)
    role = fields.String(load_default="member", validate=validate.OneOf(SPACE_ROLES))
    expires_in_days = fields.Integer(strict=True, load_default=7, validate=validate.Range(1, 90))


class QueryArgsSchema(Schema):
    """Query parameters: unknown ones are ignored, as browsers and proxies add their own."""

    class Meta:
        unknown = EXCLUDE


class InviteListArgsSchema(QueryArgsSchema):
    status = fields.String(
        load_default="active",
        validate=validate.OneOf(["active", "used", "revoked", "expired", "all"]),
    )


class ActivityArgsSchema(QueryArgsSchema):
    action = fields.String(validate=validate.Length(max=64))
    entity = fields.String(validate=validate.Length(max=64))
    userId = QueryId(data_key="userId")
    user_id = QueryId()
    date_from = fields.AwareDateTime(data_key="from", default_timezone=UTC)
    date_to = fields.AwareDateTime(data_key="to", default_timezone=UTC)
    q = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, INT32))


# --- output -----------------------------------------------------------------------------------

__all__ = ["iso"]


class SpaceArgsSchema(QueryArgsSchema):
    """`?space_id=`: act in that space of the caller's instead of the active one."""

    space_id = QueryId()
