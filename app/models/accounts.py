"""Accounts: Flask-AppBuilder's users (with a display name) and their server-side sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import UTCDateTime, utcnow

# Flask-AppBuilder's user (table `ab_user`) with Boxset's columns added to the same mapping.
# Not a subclass: FAB's relationships (roles, groups, API keys) are typed to its `User`.
BoxsetUser = User
User.display_name = Column(String(120), nullable=True)


def _user_name(user: User) -> str:
    return user.display_name or " ".join(p for p in (user.first_name, user.last_name) if p)


User.name = property(_user_name)


@event.listens_for(User, "before_insert", propagate=True)
@event.listens_for(User, "before_update", propagate=True)
def _lowercase_email(_mapper: Any, _connection: Any, user: User) -> None:
    if user.email:
        user.email = user.email.strip().lower()


class UserSession(Model):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    # Session payload (CSRF token, Flask-Login's markers); never secrets of the user.
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    __table_args__ = (Index("ix_user_sessions_user_created", "user_id", "created_at"),)
