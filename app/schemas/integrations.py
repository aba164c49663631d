"""Input and output of the integration settings (api.md "Administration"): provider URLs are
plain http(s) addresses (no credentials, query or fragment, so a key never hides in a field that
is shown back), secrets are printable text, Plex sections are `[{key, title, type}]`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from marshmallow import ValidationError, fields, validate, validates_schema

from app.models.integrations import BARCODE_PRESETS
from app.schemas.accounts import StrictSchema, Trimmed
from app.services.integrations import SECRETS, SettingsView

URL_MAX = 500
SECRET_MAX = 1000


class HttpUrl(Trimmed):
    """An http or https URL with a host and nothing that could carry a secret."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text or len(text) > URL_MAX:
            raise ValidationError(f"Give an http(s) URL of at most {URL_MAX} characters.")
        if any(ch.isspace() or ord(ch) < 32 for ch in text):
            raise ValidationError("A URL cannot contain spaces.")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018  (raises on a malformed port)
            httpx.URL(text).host  # noqa: B018  (as the providers will call it: a bad IDNA host fails)
        except (httpx.InvalidURL, ValueError):
            raise ValidationError("Not a valid URL.") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValidationError("Give an http:// or https:// URL with a host name.")
        if parts.username is not None or parts.password is not None:
            raise ValidationError("Put credentials in the key field, not in the URL.")
        if parts.query or parts.fragment:
            raise ValidationError("Leave out the query string (?…) and fragment (#…).")
        return text


class Secret(fields.String):
    """A provider key or token: printable characters, no spaces (it travels in headers)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("Send the key, or null to clear it.")
        if len(text) > SECRET_MAX:
            raise ValidationError(f"At most {SECRET_MAX} characters.")
        if not all(33 <= ord(ch) <= 126 for ch in text):
            raise ValidationError("Only printable characters without spaces.")
        return text


class PlexSectionSchema(StrictSchema):
    key = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$", error="A Plex section key, e.g. 1."),
    )
    title = Trimmed(required=True, validate=validate.Length(1, 200))
    type = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z]{1,32}$", error="A Plex section type, e.g. movie."),
    )


class IntegrationSettingsPutSchema(StrictSchema):
    """Only the keys sent change; null clears a value (the environment default applies)."""

    tmdb_api_url = HttpUrl(allow_none=True)
    tmdb_api_key = Secret(allow_none=True)
    barcode_preset = fields.String(allow_none=True, validate=validate.OneOf(BARCODE_PRESETS))
    barcode_api_url = HttpUrl(allow_none=True)
    barcode_api_key = Secret(allow_none=True)
    vision_api_url = HttpUrl(allow_none=True)
    vision_api_key = Secret(allow_none=True)
    plex_api_url = HttpUrl(allow_none=True)
    plex_api_token = Secret(allow_none=True)
    plex_sections = fields.List(
        fields.Nested(PlexSectionSchema), allow_none=True, validate=validate.Length(max=200)
    )

    @validates_schema
    def _unique_sections(self, data: dict, **_kw: Any) -> None:
        keys = [section["key"] for section in data.get("plex_sections") or []]
        if len(keys) != len(set(keys)):
            raise ValidationError("Each section may be listed once.", "plex_sections")


def settings_out(view: SettingsView) -> dict[str, Any]:
    """The answer of GET/PUT: effective values, secrets only as {set, last4, source}."""
    result: dict[str, Any] = {}
    for name in IntegrationSettingsPutSchema().fields:
        if name in SECRETS:
            state = view.secrets[name]
            result[name] = {"set": state.set, "last4": state.last4, "source": state.source}
        else:
            result[name] = view.values[name]
    result["decrypt_health"] = {"ok": not view.failed, "failed": list(view.failed)}
    return result
