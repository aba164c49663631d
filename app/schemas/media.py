"""Input schemas for catalog items: every field rule of api.md "Media" lives here."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from app.models.media import FORMATS, MEDIA_TYPES, RESOLUTIONS, TV_TYPES
from app.schemas.accounts import INT32, QueryArgsSchema, QueryId, StrictSchema, Trimmed

TV_FIELDS = ("network", "series_id", "season_number", "episode_number", "episode_title")
SORTS = ("title", "year", "format", "created_at", "user_rating", "rating")
MEDIA_TYPE_FILTERS = (*MEDIA_TYPES, "tv")


def _text(max_length: int, **kw: Any) -> fields.String:
    return Trimmed(allow_none=True, validate=validate.Length(max=max_length), **kw)


def _names(width: int, **kw: Any) -> fields.List:
    """Names as their table holds them: genres 100 characters, people 300."""
    return fields.List(
        Trimmed(validate=validate.Length(1, width)), validate=validate.Length(max=200), **kw
    )


def _score(**kw: Any) -> fields.Float:
    return fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(0, 10), **kw)


def _count(maximum: int, **kw: Any) -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, maximum), **kw)


class MediaFieldsSchema(StrictSchema):
    title = Trimmed(validate=validate.Length(1, 500))
    original_title = _text(500)
    media_type = fields.String(validate=validate.OneOf(MEDIA_TYPES))
    format = fields.String(allow_none=True, validate=validate.OneOf(FORMATS))
    year = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1888, 2100))
    release_date = fields.Date(allow_none=True)
    runtime = _count(100000)
    overview = _text(20000)
    genres = _names(100)
    directors = _names(300)
    cast = _names(300)
    rating = _score()
    user_rating = _score()
    tmdb_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, INT32))
    tmdb_media_type = fields.String(allow_none=True, validate=validate.OneOf(["movie", "tv"]))
    imdb_id = fields.String(
        allow_none=True, validate=validate.Regexp(r"^tt\d{5,12}$", error="Not an IMDb id (tt…).")
    )
    upc = fields.String(
        allow_none=True, validate=validate.Regexp(r"^\d{6,14}$", error="6 to 14 digits.")
    )
    cover_key = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^covers/[0-9a-f]{32}\.jpg$", error="Not an uploaded cover."),
    )
    cover_url = fields.String(  # an image URL, or a TMDB poster path such as "/abc.jpg"
        allow_none=True,
        validate=[
            validate.Length(max=1000),
            validate.Regexp(r"^(https?://\S+|/[\w./-]+)$", error="Not an image URL or path."),
        ],
    )
    backdrop_url = fields.Url(allow_none=True, validate=validate.Length(max=1000))
    trailer_url = fields.Url(allow_none=True, validate=validate.Length(max=1000))
    network = _text(200)
    series_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, INT32))
    season_number = _count(1000)
    episode_number = _count(100000)
    episode_title = _text(500)
    location = _text(200)
    notes = _text(20000)
    library_id = fields.Integer(strict=True, validate=validate.Range(1, INT32))


def check_tv_fields(data: dict[str, Any]) -> None:
    """TV fields only on TV types (the database enforces the same with a CHECK)."""
    if data.get("media_type", "movie") in TV_TYPES:
        return
    present = [f for f in TV_FIELDS if data.get(f) is not None]
    if present:
        raise ValidationError(
            {f: ["Only TV series and episodes have this field."] for f in present}
        )


class MediaPostSchema(MediaFieldsSchema):
    title = Trimmed(required=True, validate=validate.Length(1, 500))
    media_type = fields.String(load_default="movie", validate=validate.OneOf(MEDIA_TYPES))

    @validates_schema
    def _tv_only(self, data: dict[str, Any], **_kw: Any) -> None:
        check_tv_fields(data)


class MediaPatchSchema(MediaFieldsSchema):
    """Any item fields; TV rules are checked against the merged item by the service."""


class SeasonSchema(StrictSchema):
    season_number = fields.Integer(strict=True, required=True, validate=validate.Range(0, 1000))
    expected_episodes = _count(10000)
    available_episodes = _count(10000)


class SeasonsPutSchema(StrictSchema):
    seasons = fields.List(
        fields.Nested(SeasonSchema), required=True, validate=validate.Length(max=500)
    )

    @validates_schema
    def _unique(self, data: dict[str, Any], **_kw: Any) -> None:
        numbers = [s["season_number"] for s in data.get("seasons", [])]
        if len(numbers) != len(set(numbers)):
            raise ValidationError("Each season number once.", "seasons")


class MediaListArgsSchema(QueryArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(max=1000))
    sort_by = fields.String(load_default="title", validate=validate.OneOf(SORTS))
    sort_dir = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))
    search = Trimmed(validate=validate.Length(max=200))
    media_type = fields.String(validate=validate.OneOf(MEDIA_TYPE_FILTERS))
    format = fields.String(validate=validate.OneOf(FORMATS))
    genre = Trimmed(validate=validate.Length(max=100))
    director = Trimmed(validate=validate.Length(max=300))
    actor = Trimmed(validate=validate.Length(max=300))
    year = fields.Integer(validate=validate.Range(1888, 2100))
    year_min = fields.Integer(validate=validate.Range(1888, 2100))
    year_max = fields.Integer(validate=validate.Range(1888, 2100))
    rating_min = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    rating_max = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    user_rating_min = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    user_rating_max = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    resolution = fields.String(validate=validate.OneOf(RESOLUTIONS))
    library_id = fields.String(validate=validate.Regexp(r"^(all|\d{1,9})$"))
    space_id = QueryId()
