"""Server-side sessions: an opaque token in the cookie, only its SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import g, has_app_context
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models.accounts import User, UserSession
from app.models.base import utcnow
from app.services.context import RequestInfo

TOUCH_EVERY = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_session(
    user_id: int,
    *,
    info: RequestInfo,
    ttl_days: int,
    max_per_user: int,
    data: dict[str, Any] | None = None,
) -> tuple[UserSession, str]:
    """A new session (new token: no fixation). The user's oldest sessions beyond the limit go."""
    now = utcnow()
    raw = secrets.token_urlsafe(48)
    row = UserSession(
        user_id=user_id,
        token_hash=hash_token(raw),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=ttl_days),
        ip=info.ip,
        user_agent=(info.user_agent or "")[:512] or None,
        data=data or {},
    )
    db.session.add(row)
    db.session.flush()
    keep = db.session.scalars(
        select(UserSession.id)
        .where(UserSession.user_id == user_id, UserSession.expires_at > now)
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
        .limit(max_per_user)
    ).all()
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user_id, UserSession.id.not_in(keep))
    )
    return row, raw


def find_session(raw: str, now: datetime | None = None) -> UserSession | None:
    """The live session for a cookie token, or None (unknown, revoked or expired)."""
    if not raw or len(raw) > 256:
        return None
    now = now or utcnow()
    # The user and their roles come with the session row (one statement instead of three);
    # Flask-Login's user loader then finds the user in the identity map.
    result = (
        db.session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .options(joinedload(User.roles))
            .where(UserSession.token_hash == hash_token(raw))
        )
        .unique()
        .first()
    )
    if result is None:
        return None
    row = result[0]
    if has_app_context():
        g.session_user = result[1]  # a strong reference keeps it in the identity map
    if row.expires_at <= now:
        return None
    return row


def touch(row: UserSession, now: datetime | None = None) -> bool:
    """Record activity at most once a minute (no write per request)."""
    now = now or utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return False
    row.last_seen_at = now
    return True


def list_sessions(user_id: int) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.expires_at > utcnow())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_session(session_id: int) -> None:
    db.session.execute(delete(UserSession).where(UserSession.id == session_id))


def revoke_session(user_id: int, session_id: int) -> bool:
    """Revoke one of the user's own sessions; False when it is not theirs."""
    result = db.session.execute(
        delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
    )
    return bool(result.rowcount)


def revoke_other_sessions(user_id: int, keep_session_id: int | None) -> int:
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session_id is not None:
        query = query.where(UserSession.id != keep_session_id)
    return db.session.execute(query).rowcount or 0


def prune_expired(now: datetime | None = None) -> int:
    result = db.session.execute(
        delete(UserSession).where(UserSession.expires_at <= (now or utcnow()))
    )
    db.session.commit()
    return result.rowcount or 0
