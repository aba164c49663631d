"""catalog revision (a token replaced by every committed change to listable data); the year
index carries the sort title on PostgreSQL

Revision ID: e5a9c1d7b3f4
Revises: d4f1a2b3c5e6
Create Date: 2026-11-27 00:15:00.000000+00:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5a9c1d7b3f4"
down_revision = "d4f1a2b3c5e6"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "catalog_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_revision")),
    )
    # A random start: two databases never share a token, so a process that talks to both
    # (tests, a restore) cannot mix up their cached counts.
    op.bulk_insert(table, [{"id": 1, "revision": secrets.randbits(62)}])
    if op.get_bind().dialect.name == "postgresql":
        _year_index(include=["sort_title"])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _year_index(include=None)
    op.drop_table("catalog_revision")


def _year_index(include: list[str] | None) -> None:
    op.drop_index("ix_media_library_year", table_name="media")
    op.create_index(
        "ix_media_library_year",
        "media",
        ["space_id", "library_id", "year", "id"],
        postgresql_include=include or [],
    )
