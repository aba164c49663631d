"""Integration settings per space: provider URLs, the barcode preset, Plex sections and the
provider secrets, which are stored only encrypted (see app/services/integrations.py).

A column left empty means "use the environment default". One row per space, created on the
first change.
"""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import UTCDateTime, utcnow

BARCODE_PRESETS = ("upcitemdb", "barcodelookup")


class IntegrationSettings(Model):
    __tablename__ = "integration_settings"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    tmdb_api_url: Mapped[str | None] = mapped_column(String(500))
    tmdb_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    barcode_preset: Mapped[str | None] = mapped_column(String(32))
    barcode_api_url: Mapped[str | None] = mapped_column(String(500))
    barcode_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    vision_api_url: Mapped[str | None] = mapped_column(String(500))
    vision_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    plex_api_url: Mapped[str | None] = mapped_column(String(500))
    plex_api_token_encrypted: Mapped[str | None] = mapped_column(Text)
    # [{key, title, type}] of the Plex library sections to import.
    plex_sections: Mapped[list | None] = mapped_column(JSON)
    # {setting: fingerprint of the stored ciphertext} of secrets already reported as
    # undecryptable, so one broken value is logged and audited once, not on every read.
    decrypt_failures: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(
            "barcode_preset IS NULL OR barcode_preset IN ('upcitemdb', 'barcodelookup')",
            name="barcode_preset",
        ),
    )
