"""integrations and feature flags

Revision ID: b7d2f5e8c3a1
Revises: a1c4e2b7d9f0
Create Date: 2026-11-26 21:10:00.000000+00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d2f5e8c3a1"
down_revision = "a1c4e2b7d9f0"
branch_labels = None
depends_on = None

# The flags as this revision knows them (all on); later descriptions live in the code.
FLAGS = (
    ("import_plex_enabled", "Import movies and shows from a Plex server."),
    ("import_csv_enabled", "Import CSV files and Delicious Library exports."),
    ("tmdb_search_enabled", "Search TMDB and fill items from its details."),
    ("lookup_upc_enabled", "Look up a disc by its barcode (UPC/EAN)."),
    ("recognize_cover_enabled", "Recognise a title from a photo of its cover (OCR)."),
)


def upgrade():
    op.create_table(
        "integration_settings",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("tmdb_api_url", sa.String(length=500), nullable=True),
        sa.Column("tmdb_api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("barcode_preset", sa.String(length=32), nullable=True),
        sa.Column("barcode_api_url", sa.String(length=500), nullable=True),
        sa.Column("barcode_api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("vision_api_url", sa.String(length=500), nullable=True),
        sa.Column("vision_api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("plex_api_url", sa.String(length=500), nullable=True),
        sa.Column("plex_api_token_encrypted", sa.Text(), nullable=True),
        sa.Column("plex_sections", sa.JSON(), nullable=True),
        sa.Column("decrypt_failures", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "barcode_preset IS NULL OR barcode_preset IN ('upcitemdb', 'barcodelookup')",
            name=op.f("ck_integration_settings_barcode_preset"),
        ),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_integration_settings_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["ab_user.id"],
            name=op.f("fk_integration_settings_updated_by_ab_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("space_id", name=op.f("pk_integration_settings")),
    )
    flags = op.create_table(
        "feature_flags",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["ab_user.id"],
            name=op.f("fk_feature_flags_updated_by_ab_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feature_flags")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        flags,
        [
            {"key": key, "enabled": True, "description": text, "created_at": now, "updated_at": now}
            for key, text in FLAGS
        ],
    )


def downgrade():
    op.drop_table("feature_flags")
    op.drop_table("integration_settings")
