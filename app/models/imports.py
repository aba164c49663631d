"""Imports: background jobs with their per-row results, the uploaded input they read, and the
identifiers that make imports idempotent.

`media_identifiers` holds one row per identity of an imported item (UPC, IMDb id, TMDB id,
normalised title + year + type, Plex guid, Delicious uuid) with `UNIQUE(library_id, kind, value)`:
two imports of the same file at the same time race on that constraint, and the loser finds the
winner's item instead of creating a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import UTCDateTime, utcnow

JOB_STATUSES = ("queued", "running", "succeeded", "failed")
ROW_STATUSES = ("created", "updated", "skipped", "failed")
ENRICHMENT_STATES = ("enriched", "no_match", "failed", "not_attempted")
IMPORT_PROVIDERS = ("csv_generic", "csv_delicious", "plex")
IDENTIFIER_KINDS = ("upc", "imdb", "tmdb", "title", "plex", "delicious")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SyncJob(Model):
    __tablename__ = "sync_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False
    )
    library_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    job_type: Mapped[str] = mapped_column(String(32), nullable=False, default="media_import")
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    file_name: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        ForeignKeyConstraint(
            ["space_id", "library_id"],
            ["libraries.space_id", "libraries.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        CheckConstraint(_in("provider", IMPORT_PROVIDERS), name="provider"),
        Index("ix_sync_jobs_space_created", "space_id", "created_at"),
        Index("ix_sync_jobs_status_heartbeat", "status", "heartbeat_at"),
    )


class SyncJobInput(Model):
    """The uploaded file of a queued import, kept in the database so that any worker can read it;
    removed when the job succeeds."""

    __tablename__ = "sync_job_inputs"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("sync_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class SyncJobRow(Model):
    __tablename__ = "sync_job_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("sync_jobs.id", ondelete="CASCADE"), nullable=False
    )
    row: Mapped[int] = mapped_column(Integer, nullable=False)
    source_key: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    matched_by: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    enrichment: Mapped[str] = mapped_column(String(16), nullable=False, default="not_attempted")
    enrichment_detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("job_id", "row"),
        CheckConstraint(_in("status", ROW_STATUSES), name="status"),
        CheckConstraint(_in("enrichment", ENRICHMENT_STATES), name="enrichment"),
        Index("ix_sync_job_rows_media", "media_id"),
    )


class MediaIdentifier(Model):
    __tablename__ = "media_identifiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(600), nullable=False)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), nullable=False
    )

    __table_args__ = (
        UniqueConstraint("library_id", "kind", "value"),
        CheckConstraint(_in("kind", IDENTIFIER_KINDS), name="kind"),
        Index("ix_media_identifiers_media", "media_id"),
    )
