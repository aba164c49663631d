"""Feature flags: the one read path every gated endpoint and job uses (`is_enabled`,
`require`), and the instance Admin's verbs that change them, each audited.

The environment wins: `FEATURE_FLAG_<KEY>` forces a flag (which then cannot be changed here),
and `FEATURE_FLAGS_READ_ONLY=true` freezes them all. Stored values are cached per process for
FEATURE_FLAGS_CACHE_TTL_SECONDS; a change clears this process's cache at once, and other
processes (the worker, other app containers) follow within the TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, FeatureDisabled, Forbidden, NotFound
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import utcnow
from app.models.flags import FeatureFlag
from app.services import activity
from app.services.context import NO_REQUEST, RequestInfo
from app.services.tenancy import is_instance_admin

# Every flag, with what it switches (all on by default); config.FEATURE_FLAG_KEYS lists the
# same keys for validating FEATURE_FLAG_<KEY>.
FLAGS: dict[str, str] = {
    "import_plex_enabled": "Import movies and shows from a Plex server.",
    "import_csv_enabled": "Import CSV files and Delicious Library exports.",
    "tmdb_search_enabled": "Search TMDB and fill items from its details.",
    "lookup_upc_enabled": "Look up a disc by its barcode (UPC/EAN).",
    "recognize_cover_enabled": "Recognise a title from a photo of its cover (OCR).",
}
_CACHE = "boxset_feature_flags"


@dataclass(frozen=True)
class FlagState:
    key: str
    enabled: bool  # what gated code sees
    stored_enabled: bool  # what the admin screen set
    env_override: bool | None  # what FEATURE_FLAG_<KEY> forces, if anything
    description: str
    updated_at: datetime | None
    updated_by: int | None
    updated_by_email: str | None


def _known(key: str) -> str:
    if key not in FLAGS:
        raise NotFound(f"There is no feature flag {key!r}.")
    return key


def _overrides() -> dict[str, bool]:
    return current_app.config["FEATURE_FLAG_OVERRIDES"]


def read_only() -> bool:
    return bool(current_app.config["FEATURE_FLAGS_READ_ONLY"])


# --- the cached read path -------------------------------------------------------------------


def _stored_values() -> dict[str, bool]:
    """Stored flag values, from this process's cache while it is fresh."""
    box = current_app.extensions.setdefault(_CACHE, {})
    ttl = current_app.config["FEATURE_FLAGS_CACHE_TTL_SECONDS"]
    cached = box.get("values")
    if cached is not None and time.monotonic() - cached[1] < ttl:
        return cached[0]
    values = dict(db.session.execute(select(FeatureFlag.key, FeatureFlag.enabled)).all())
    box["values"] = (values, time.monotonic())
    return values


def invalidate_cache() -> None:
    current_app.extensions.setdefault(_CACHE, {}).pop("values", None)


def is_enabled(key: str) -> bool:
    """Whether a feature is on: the environment's override, else the stored value (a flag
    without a row is on)."""
    if key not in FLAGS:
        raise ValueError(f"unknown feature flag {key!r}")
    override = _overrides().get(key)
    if override is not None:
        return override
    return _stored_values().get(key, True)


def require(key: str) -> None:
    """Gate a feature: raises `FeatureDisabled` (503 feature_disabled) when it is off."""
    if not is_enabled(key):
        raise FeatureDisabled(
            f"This feature is turned off by an administrator: {FLAGS[key]} (feature flag {key})."
        )


# --- the admin screen -----------------------------------------------------------------------


def _require_admin(actor: BoxsetUser) -> None:
    if not is_instance_admin(actor):
        raise Forbidden("Only the instance Admin manages feature flags.")


def _state(key: str, row: FeatureFlag | None, emails: dict[int, str]) -> FlagState:
    stored = row.enabled if row is not None else True
    override = _overrides().get(key)
    updated_by = row.updated_by if row is not None else None
    return FlagState(
        key=key,
        enabled=stored if override is None else override,
        stored_enabled=stored,
        env_override=override,
        description=FLAGS[key],
        updated_at=row.updated_at if row is not None else None,
        updated_by=updated_by,
        updated_by_email=emails.get(updated_by) if updated_by is not None else None,
    )


def _emails(rows: list[FeatureFlag]) -> dict[int, str]:
    ids = {row.updated_by for row in rows if row.updated_by is not None}
    if not ids:
        return {}
    found = db.session.execute(
        select(BoxsetUser.id, BoxsetUser.email).where(BoxsetUser.id.in_(ids))
    )
    return dict(found.all())


def list_flags(actor: BoxsetUser) -> list[FlagState]:
    _require_admin(actor)
    rows = {row.key: row for row in db.session.scalars(select(FeatureFlag))}
    emails = _emails(list(rows.values()))
    return [_state(key, rows.get(key), emails) for key in FLAGS]


def get_flag(actor: BoxsetUser, key: str) -> FlagState:
    _require_admin(actor)
    row = db.session.get(FeatureFlag, _known(key))
    return _state(key, row, _emails([row] if row else []))


def set_flag(
    actor: BoxsetUser, key: str, enabled: bool, info: RequestInfo = NO_REQUEST
) -> FlagState:
    """Switch a flag (audited with who, the old and the new value). Refused (409) while the
    environment forces it or makes all flags read-only."""
    _require_admin(actor)
    _known(key)
    if read_only():
        raise Conflict(
            "Feature flags are read-only on this instance (FEATURE_FLAGS_READ_ONLY=true); "
            "change them in the environment."
        )
    override = _overrides().get(key)
    if override is not None:
        raise Conflict(
            f"FEATURE_FLAG_{key.upper()} forces this flag {'on' if override else 'off'}; "
            "change or remove it in the environment."
        )
    row = db.session.get(FeatureFlag, key)
    if row is None:
        row = FeatureFlag(key=key, enabled=True, description=FLAGS[key])
        db.session.add(row)
    old = row.enabled
    if old != enabled:
        row.enabled = enabled
        row.updated_at = utcnow()
        row.updated_by = actor.id
        activity.record(
            "feature_flag.update",
            actor=actor,
            entity_type="feature_flag",
            entity_id=key,
            details={"key": key, "from": old, "to": enabled},
            info=info,
        )
    db.session.commit()
    invalidate_cache()
    return _state(key, row, _emails([row]))
