"""All tables live on Flask-AppBuilder's metadata (one Alembic history).

Import every domain module here so that Alembic and `flask db check` see the whole schema.
"""

from flask_appbuilder import Model

# Named constraints let SQLite batch migrations drop and alter them later.
Model.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from app.models import (  # noqa: E402  (after the naming convention)
    accounts,
    activity,
    flags,
    imports,
    integrations,
    media,
    tenancy,
)

__all__ = [
    "Model",
    "accounts",
    "activity",
    "flags",
    "imports",
    "integrations",
    "media",
    "tenancy",
]
