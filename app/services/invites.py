"""Invitations to a space. The raw token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models.base import utcnow
from app.models.tenancy import SPACE_ROLES, Invite
from app.services import activity
from app.services.context import RequestInfo
from app.services.tenancy import Scope

STATUSES = ("active", "used", "revoked", "expired", "all")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invite_status(invite: Invite) -> str:
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= utcnow():
        return "expired"
    return "active"


def create_invite(
    scope: Scope, *, email: str | None, role: str, expires_in_days: int, info: RequestInfo
) -> tuple[Invite, str]:
    scope.require("admin", "invite people")
    if role not in SPACE_ROLES:
        raise Invalid({"role": [f"Must be one of: {', '.join(SPACE_ROLES)}."]})
    if role == "owner" and not scope.at_least("owner"):
        raise Forbidden("Only an owner can invite another owner.")
    raw = secrets.token_urlsafe(32)
    invite = Invite(
        space_id=scope.space_id,
        email=email.strip().lower() if email else None,
        role=role,
        token_hash=hash_token(raw),
        created_by=scope.user_id,
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    db.session.add(invite)
    db.session.flush()
    activity.record(
        "invite.create",
        actor=scope.user,
        space_id=scope.space_id,
        entity_type="invite",
        entity_id=invite.id,
        details={"email": invite.email, "role": role, "expires_in_days": expires_in_days},
        info=info,
    )
    db.session.commit()
    return invite, raw


def list_invites(scope: Scope, status: str = "active") -> list[Invite]:
    scope.require("admin", "see invitations")
    if status not in STATUSES:
        raise Invalid({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
    invites = db.session.scalars(
        select(Invite)
        .where(Invite.space_id == scope.space_id)
        .order_by(Invite.created_at.desc(), Invite.id.desc())
    ).all()
    if status == "all":
        return list(invites)
    return [invite for invite in invites if invite_status(invite) == status]


def revoke_invite(scope: Scope, invite_id: int, info: RequestInfo) -> Invite:
    scope.require("admin", "revoke invitations")
    invite = db.session.get(Invite, invite_id)
    if invite is None or invite.space_id != scope.space_id:
        raise NotFound("Invite not found.")
    status = invite_status(invite)
    if status != "active":
        raise Conflict(f"This invite is {status} and can no longer be revoked.")
    invite.revoked_at = utcnow()
    invite.revoked_by = scope.user_id
    activity.record(
        "invite.revoked",
        actor=scope.user,
        space_id=scope.space_id,
        entity_type="invite",
        entity_id=invite.id,
        details={"email": invite.email, "role": invite.role},
        info=info,
    )
    db.session.commit()
    return invite


def claimable_invite(raw_token: str, email: str) -> Invite:
    """The invite a registration may claim, locked for the claim, or `invite_invalid`."""
    invalid = Invalid(
        "This invitation is not valid (used, revoked, expired or unknown).", code="invite_invalid"
    )
    if not raw_token or len(raw_token) > 256:
        raise invalid
    query = select(Invite).where(Invite.token_hash == hash_token(raw_token))
    invite = db.session.scalar(query.with_for_update())
    if invite is None or invite_status(invite) != "active":
        raise invalid
    if invite.email and invite.email != email.strip().lower():
        raise invalid
    return invite


def claim_invite(user, invite: Invite, info: RequestInfo, *, existing_account: bool) -> None:
    """The user joins the invitation's space with its role; the invite is used up. Part of
    a unit of work: the caller commits."""
    from app.services import tenancy

    tenancy.join_space(user.id, invite.space_id, invite.role)
    invite.used_at = utcnow()
    invite.used_by = user.id
    activity.record(
        "invite.claimed",
        actor=user,
        space_id=invite.space_id,
        entity_type="invite",
        entity_id=invite.id,
        details={"role": invite.role, "existing_account": existing_account},
        info=info,
    )


def accept_invite(user, raw_token: str, info: RequestInfo) -> Invite:
    """A signed-in account joins another household with an invitation."""
    from app.services import tenancy

    invite = claimable_invite(raw_token, user.email)
    if tenancy.membership(user.id, invite.space_id) is not None:
        raise Conflict("You are already a member of that space.")
    claim_invite(user, invite, info, existing_account=True)
    db.session.commit()
    return invite
