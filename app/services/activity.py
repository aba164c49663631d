"""The activity log: domain events (api.md §4) and request outcomes. Never a secret."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select

from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.activity import ActivityEntry
from app.services.context import NO_REQUEST, RequestInfo

log = logging.getLogger("boxset.activity")

_SECRET_KEY = re.compile(r"pass(word)?|token|secret|api[-_]?key|authorization|cookie|csrf", re.I)
REDACTED = "[redacted]"


def scrub(value: Any) -> Any:
    """Drop anything that looks like a secret from event details."""
    if isinstance(value, dict):
        return {
            str(k): (
                REDACTED if _SECRET_KEY.search(str(k)) and not isinstance(v, bool) else scrub(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + "…"
    return value


def record(
    action: str,
    *,
    actor: BoxsetUser | None = None,
    space_id: int | None = None,
    entity_type: str | None = None,
    entity_id: Any = None,
    details: dict[str, Any] | None = None,
    info: RequestInfo = NO_REQUEST,
) -> ActivityEntry:
    """Add an event to the current unit of work (the calling service commits)."""
    entry = ActivityEntry(
        action=action,
        user_id=actor.id if actor is not None else None,
        user_email=actor.email if actor is not None else None,
        space_id=space_id,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        details=scrub(details or {}),
        ip=info.ip,
        request_id=info.request_id,
    )
    db.session.add(entry)
    return entry


def record_account_event(
    action: str,
    user: BoxsetUser,
    *,
    info: RequestInfo,
    entity_type: str = "user",
    entity_id: Any = None,
    details: dict[str, Any] | None = None,
    commit: bool = False,
) -> None:
    """An event about the user's own account. It belongs to no space: a person in several
    households keeps their sign-ins to themselves (the instance Admin sees them)."""
    kwargs = {
        "actor": user,
        "space_id": None,
        "entity_type": entity_type,
        "entity_id": user.id if entity_id is None else entity_id,
        "details": details,
        "info": info,
    }
    if commit:
        record_now(action, **kwargs)
    else:
        record(action, **kwargs)


def record_now(action: str, **kwargs: Any) -> None:
    """Record and commit an event on its own (failed logins, denied requests)."""
    try:
        record(action, **kwargs)
        db.session.commit()
    except Exception:  # the log must never turn a denial into a 500
        db.session.rollback()
        log.exception("could not record activity %s", action)


def list_activity(
    *,
    space_ids: list[int] | None,
    action: str | None = None,
    entity: str | None = None,
    user_id: int | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    text: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[ActivityEntry]]:
    """Newest first. `space_ids=None` means every space (instance Admin)."""
    query = select(ActivityEntry)
    if space_ids is not None:
        query = query.where(ActivityEntry.space_id.in_(space_ids))
    if action:
        query = query.where(ActivityEntry.action == action)
    if entity:
        query = query.where(ActivityEntry.entity_type == entity)
    if user_id is not None:
        query = query.where(ActivityEntry.user_id == user_id)
    if date_from is not None:
        query = query.where(ActivityEntry.created_at >= date_from)
    if date_to is not None:
        query = query.where(ActivityEntry.created_at <= date_to)
    if text:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(ActivityEntry.action).like(pattern, escape="\\"),
                func.lower(cast(ActivityEntry.details, String)).like(pattern, escape="\\"),
                func.lower(ActivityEntry.user_email).like(pattern, escape="\\"),
                func.lower(ActivityEntry.entity_type).like(pattern, escape="\\"),
                func.lower(ActivityEntry.request_id).like(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(ActivityEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return total, list(rows)
