"""The catalog: items, their genres and people, variants (copies/editions), metadata and seasons,
and merges of duplicate items (with what undoing them needs).

Every item lives in a library of a space; a composite foreign key keeps the pair consistent.
Genres and people are normalised so that filters use indexes; `sort_title` is the title without
a leading article, lowercased, for the default sort.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import UTCDateTime, utcnow

MEDIA_TYPES = ("movie", "tv_series", "tv_episode", "other")
TV_TYPES = ("tv_series", "tv_episode")
FORMATS = ("DVD", "Blu-ray", "4K UHD", "Digital", "VHS", "LaserDisc", "Other")
RESOLUTIONS = ("sd", "720p", "1080p", "4k")
PERSON_ROLES = ("director", "cast")

_TV_FIELDS_ONLY_ON_TV = (
    "media_type IN ('tv_series', 'tv_episode') OR (network IS NULL AND series_id IS NULL "
    "AND season_number IS NULL AND episode_number IS NULL AND episode_title IS NULL)"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Media(Model):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False
    )
    library_id: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    sort_title: Mapped[str] = mapped_column(String(500), nullable=False)
    original_title: Mapped[str | None] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(16), nullable=False, default="movie")
    format: Mapped[str | None] = mapped_column(String(16))
    year: Mapped[int | None] = mapped_column(Integer)
    release_date: Mapped[date | None] = mapped_column(Date)
    runtime: Mapped[int | None] = mapped_column(Integer)
    overview: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[float | None] = mapped_column(Float)
    user_rating: Mapped[float | None] = mapped_column(Float)
    tmdb_id: Mapped[int | None] = mapped_column(Integer)
    tmdb_media_type: Mapped[str | None] = mapped_column(String(8))
    imdb_id: Mapped[str | None] = mapped_column(String(16))
    upc: Mapped[str | None] = mapped_column(String(32))
    cover_key: Mapped[str | None] = mapped_column(String(300))
    cover_url: Mapped[str | None] = mapped_column(String(1000))
    backdrop_url: Mapped[str | None] = mapped_column(String(1000))
    trailer_url: Mapped[str | None] = mapped_column(String(1000))
    network: Mapped[str | None] = mapped_column(String(200))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    season_number: Mapped[int | None] = mapped_column(Integer)
    episode_number: Mapped[int | None] = mapped_column(Integer)
    episode_title: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    import_source: Mapped[str | None] = mapped_column(String(32))
    source_provider: Mapped[str | None] = mapped_column(String(32))
    source_external_id: Mapped[str | None] = mapped_column(String(200))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["space_id", "library_id"],
            ["libraries.space_id", "libraries.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(_in("media_type", MEDIA_TYPES), name="media_type"),
        CheckConstraint(f"format IS NULL OR {_in('format', FORMATS)}", name="format"),
        CheckConstraint("year IS NULL OR year BETWEEN 1888 AND 2100", name="year"),
        CheckConstraint("runtime IS NULL OR runtime BETWEEN 0 AND 100000", name="runtime"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 0 AND 10", name="rating"),
        CheckConstraint("user_rating IS NULL OR user_rating BETWEEN 0 AND 10", name="user_rating"),
        CheckConstraint(_TV_FIELDS_ONLY_ON_TV, name="tv_fields"),
        # Browsing: one index per sort, each led by the library and ending in the id tiebreak.
        Index("ix_media_library_sort_title", "space_id", "library_id", "sort_title", "id"),
        # The title comes with the year range (PostgreSQL): "by title, from these years" is
        # answered from the index alone.
        Index(
            "ix_media_library_year",
            "space_id",
            "library_id",
            "year",
            "id",
            postgresql_include=["sort_title"],
        ),
        Index("ix_media_library_created", "space_id", "library_id", "created_at", "id"),
        Index("ix_media_library_format", "space_id", "library_id", "format", "id"),
        Index("ix_media_library_rating", "space_id", "library_id", "rating", "id"),
        Index("ix_media_library_user_rating", "space_id", "library_id", "user_rating", "id"),
        Index("ix_media_space_sort_title", "space_id", "sort_title", "id"),
        Index("ix_media_space_type", "space_id", "media_type"),
        Index("ix_media_space_tmdb", "space_id", "tmdb_id"),
        Index("ix_media_space_upc", "space_id", "upc"),
        Index("ix_media_space_imdb", "space_id", "imdb_id"),
        Index("ix_media_series", "series_id"),
        # Substring search (PostgreSQL: trigram index; SQLite scans, fast enough at home sizes).
        Index(
            "ix_media_sort_title_trgm",
            "sort_title",
            postgresql_using="gin",
            postgresql_ops={"sort_title": "gin_trgm_ops"},
        ),
    )


class Genre(Model):
    __tablename__ = "genres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_key: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)


class MediaGenre(Model):
    __tablename__ = "media_genres"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[int] = mapped_column(
        ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True
    )

    # The genre filter reads (genre → items) from the index alone.
    __table_args__ = (Index("ix_media_genres_genre_media", "genre_id", "media_id"),)


class Person(Model):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_key: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)

    __table_args__ = (
        Index(
            "ix_people_name_trgm",
            "name_key",
            postgresql_using="gin",
            postgresql_ops={"name_key": "gin_trgm_ops"},
        ),
    )


class MediaPerson(Model):
    __tablename__ = "media_people"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    billing_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        CheckConstraint(_in("role", PERSON_ROLES), name="role"),
        Index("ix_media_people_person_role", "person_id", "role", "media_id"),
    )


class MediaVariant(Model):
    """One copy or edition of an item (a 4K disc, a director's cut file, ...)."""

    __tablename__ = "media_variants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), nullable=False, index=True
    )
    edition: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(String(8))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    container: Mapped[str | None] = mapped_column(String(32))
    video_codec: Mapped[str | None] = mapped_column(String(32))
    audio_codec: Mapped[str | None] = mapped_column(String(32))
    source_provider: Mapped[str | None] = mapped_column(String(32))
    source_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (
        CheckConstraint(
            f"resolution IS NULL OR {_in('resolution', RESOLUTIONS)}", name="resolution"
        ),
        Index("ix_media_variants_resolution", "resolution", "media_id"),
    )


class MediaMetadata(Model):
    __tablename__ = "media_metadata"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    value: Mapped[dict | list | str | int | float | bool | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("media_id", "key"),)


class MediaSeason(Model):
    __tablename__ = "media_seasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), nullable=False
    )
    season_number: Mapped[int] = mapped_column(Integer, nullable=False)
    expected_episodes: Mapped[int | None] = mapped_column(Integer)
    available_episodes: Mapped[int | None] = mapped_column(Integer)
    is_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        UniqueConstraint("media_id", "season_number"),
        CheckConstraint("season_number BETWEEN 0 AND 1000", name="season_number"),
        CheckConstraint(
            "expected_episodes IS NULL OR expected_episodes BETWEEN 0 AND 10000", name="expected"
        ),
        CheckConstraint(
            "available_episodes IS NULL OR available_episodes BETWEEN 0 AND 10000",
            name="available",
        ),
    )


class MediaMerge(Model):
    """One merge of duplicates into a kept item, with what undoing it needs.

    `snapshot` holds, per merged-away item, its full row, its genres and people, the ids of
    the variants, seasons, metadata rows and episodes moved onto the kept item (with their
    rows, in case they are gone by the time of the undo) and the seasons and metadata rows
    dropped because the kept item already had that season number or key. The kept item's own
    fields are not changed by a merge.
    """

    __tablename__ = "media_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False
    )
    kept_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), nullable=False, index=True
    )
    merged_ids: Mapped[list] = mapped_column(JSON, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    snapshot: Mapped[dict] = mapped_column(JSON, nullable=False)

    __table_args__ = (Index("ix_media_merges_space", "space_id", "id"),)


class CatalogRevision(Model):
    """One row: a token that every committed change to what listings filter on (items,
    variants, genres, people, libraries) replaces with a new random value. The number of
    matches of a listing is cached per token (app/services/catalog_revision.py)."""

    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
