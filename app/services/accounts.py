"""Accounts: registration (first admin or by invite), sign-in, profile and administration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.activity import ActivityEntry
from app.models.base import iso
from app.models.tenancy import SpaceMembership
from app.services import activity, invites, sessions, tenancy
from app.services.context import RequestInfo
from app.services.tenancy import ADMIN_ROLE, Scope

MEMBER_ROLE = "Member"
MIN_PASSWORD = 8


class InvalidCredentials(AppError):
    status, code = 401, "invalid_credentials"


def _sm():
    return current_app.appbuilder.sm


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> BoxsetUser | None:
    return db.session.scalar(
        select(BoxsetUser).where(func.lower(BoxsetUser.email) == normalise_email(email))
    )


def _hash(password: str) -> str:
    cfg = current_app.config
    return generate_password_hash(
        password,
        method=cfg.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=cfg.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


def _split_name(name: str, email: str) -> tuple[str, str]:
    name = name.strip() or email.split("@")[0]
    first, _, last = name.partition(" ")
    return first[:64], last[:64]


def _lock_registration() -> None:
    """Serialise registrations so two simultaneous first sign-ups cannot both become Admin."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(0x626F7873)))


def register(
    *, email: str, password: str, name: str, invite_token: str | None, info: RequestInfo
) -> BoxsetUser:
    email = normalise_email(email)
    _lock_registration()
    sm = _sm()
    first_user = db.session.scalar(select(func.count()).select_from(BoxsetUser)) == 0
    invite = None
    if not first_user:
        if not invite_token:
            raise Invalid("An invitation is required to register.", code="invite_required")
        invite = invites.claimable_invite(invite_token, email)
    if find_by_email(email) is not None:
        raise Conflict("An account with that email already exists.")
    first, last = _split_name(name, email)
    role = sm.find_role(ADMIN_ROLE if first_user else MEMBER_ROLE)
    user = BoxsetUser(
        username=email,
        email=email,
        first_name=first,
        last_name=last,
        display_name=name.strip() or None,
        active=True,
        password=_hash(password),
        roles=[role] if role is not None else [],
    )
    db.session.add(user)
    db.session.flush()
    if first_user:
        space, _library = tenancy.create_space_for(user, "Home", info=info)
        space_id = space.id
    else:
        assert invite is not None
        invites.claim_invite(user, invite, info, existing_account=False)
        space_id = invite.space_id
    activity.record(
        "auth.register",
        actor=user,
        space_id=space_id,
        entity_type="user",
        entity_id=user.id,
        details={"first_user": first_user, "instance_role": role.name if role else None},
        info=info,
    )
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> BoxsetUser:
    """Check credentials with Flask-AppBuilder (constant-time for unknown users, login stats);
    failures are audited by the security manager's hook."""
    user = _sm().auth_user_db(normalise_email(email), password)
    if user is None:
        raise InvalidCredentials("Wrong email or password.")
    return user


def update_profile(
    user: BoxsetUser,
    changes: dict[str, Any],
    *,
    current_session_id: int | None,
    info: RequestInfo,
) -> BoxsetUser:
    """Name, email, password. A password change needs the current password and ends every
    other session of the user."""
    if not {"name", "email", "password"} & changes.keys():
        return user  # nothing to change, nothing to record
    password_changed = False
    if "password" in changes:
        current = changes.get("current_password")
        if not current or not user.password or not check_password_hash(user.password, current):
            raise Invalid({"current_password": ["The current password is not correct."]})
        user.password = _hash(changes["password"])
        sessions.revoke_other_sessions(user.id, current_session_id)
        password_changed = True
    if "email" in changes:
        email = normalise_email(changes["email"])
        other = find_by_email(email)
        if other is not None and other.id != user.id:
            raise Conflict("An account with that email already exists.")
        user.email = email
        user.username = email
    if "name" in changes:
        user.display_name = changes["name"].strip() or None
        user.first_name, user.last_name = _split_name(changes["name"], user.email)
    activity.record_account_event(
        "auth.profile.update",
        user,
        details={
            "fields": sorted(k for k in changes if k not in ("password", "current_password")),
            "password_changed": password_changed,
        },
        info=info,
    )
    db.session.commit()
    return user


def me(user: BoxsetUser) -> dict[str, Any]:
    space_id, library_id = tenancy.active_scope_ids(user)
    return {
        **public_user(user),
        "active_space_id": space_id,
        "active_library_id": library_id,
        "spaces": [
            {"id": space.id, "name": space.name, "role": role}
            for space, role in tenancy.user_spaces(user)
        ],
    }


def instance_role(user: BoxsetUser) -> str:
    return ADMIN_ROLE if tenancy.is_instance_admin(user) else MEMBER_ROLE


def public_user(user: BoxsetUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": instance_role(user),
        "last_login_at": iso(_aware(user.last_login)),
    }


def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- administration -------------------------------------------------------------------------


def list_users(scope: Scope) -> list[tuple[BoxsetUser, str | None]]:
    """Members of the space with their space role; instance Admins see every account."""
    scope.require("admin", "manage members")
    if scope.instance_admin:
        rows = db.session.execute(
            select(BoxsetUser, SpaceMembership.role)
            .outerjoin(
                SpaceMembership,
                (SpaceMembership.user_id == BoxsetUser.id)
                & (SpaceMembership.space_id == scope.space_id),
            )
            .order_by(BoxsetUser.email)
        ).all()
    else:
        rows = db.session.execute(
            select(BoxsetUser, SpaceMembership.role)
            .join(SpaceMembership, SpaceMembership.user_id == BoxsetUser.id)
            .where(SpaceMembership.space_id == scope.space_id)
            .order_by(BoxsetUser.email)
        ).all()
    return [(u, role) for u, role in rows]


def visible_user(scope: Scope, user_id: int) -> BoxsetUser:
    user = db.session.get(BoxsetUser, user_id)
    if user is None:
        raise NotFound("User not found.")
    if not scope.instance_admin and tenancy.membership(user_id, scope.space_id) is None:
        raise NotFound("User not found.")
    return user


def user_summary(scope: Scope, user_id: int) -> dict[str, Any]:
    """Contribution counters from the activity log of the space."""
    scope.require("admin", "see member details")
    user = visible_user(scope, user_id)
    base = select(ActivityEntry).where(
        ActivityEntry.user_id == user.id, ActivityEntry.space_id == scope.space_id
    )
    additions = (
        db.session.scalar(
            select(func.count()).select_from(
                base.where(ActivityEntry.action == "media.create").subquery()
            )
        )
        or 0
    )
    last_edit = db.session.scalar(
        select(func.max(ActivityEntry.created_at)).where(
            ActivityEntry.user_id == user.id,
            ActivityEntry.space_id == scope.space_id,
            ActivityEntry.action.in_(("media.create", "media.update", "media.delete")),
        )
    )
    rated = (
        db.session.scalar(
            select(func.count(func.distinct(ActivityEntry.entity_id))).where(
                ActivityEntry.user_id == user.id,
                ActivityEntry.space_id == scope.space_id,
                ActivityEntry.action == "media.rate",
            )
        )
        or 0
    )
    return {
        "last_login_at": _aware(user.last_login),
        "additions_count": additions,
        "last_edit_at": last_edit,
        "rated_count": rated,
        "contribution_score": min(100, additions * 10 + rated * 5),
    }


def _admin_count() -> int:
    """Active instance Admins. The Admin role's row is locked until commit, so two Admins
    demoting each other at once cannot leave the instance without one."""
    sm = _sm()
    role = db.session.scalar(
        select(sm.role_model).where(sm.role_model.name == ADMIN_ROLE).with_for_update()
    )
    return sum(1 for u in role.user if u.active) if role is not None else 0


def set_roles(
    scope: Scope,
    user_id: int,
    *,
    role: str | None,
    new_instance_role: str | None,
    info: RequestInfo,
) -> BoxsetUser:
    user = visible_user(scope, user_id)
    if new_instance_role is not None:
        if not scope.instance_admin:
            raise Forbidden("Only an instance Admin can change instance roles.")
        if new_instance_role not in (ADMIN_ROLE, MEMBER_ROLE):
            raise Invalid({"instance_role": ["Must be Admin or Member."]})
        currently_admin = tenancy.is_instance_admin(user)
        if currently_admin and new_instance_role == MEMBER_ROLE and _admin_count() <= 1:
            raise Conflict("This is the last instance Admin; promote someone else first.")
        if currently_admin != (new_instance_role == ADMIN_ROLE):
            user.roles = [_sm().find_role(new_instance_role)]
            activity.record(
                "admin.user.role.update",
                actor=scope.user,
                space_id=scope.space_id,
                entity_type="user",
                entity_id=user.id,
                details={"instance_role": new_instance_role, "scope": "instance"},
                info=info,
            )
    if role is not None:  # any refusal here rolls back the instance-role part too
        tenancy.change_member_role(scope.user, scope.space_id, user.id, role, info, commit=False)
    db.session.commit()
    return user


def delete_user(scope: Scope, user_id: int, info: RequestInfo) -> None:
    """Space admins remove the member from the space; instance Admins delete the account."""
    if user_id == scope.user_id:
        raise Conflict("You cannot remove yourself here; leave the space from your profile.")
    user = visible_user(scope, user_id)
    if not scope.instance_admin:
        tenancy.remove_member(scope.user, scope.space_id, user.id, info, action="admin.user.delete")
        return
    scope.require("admin", "delete accounts")
    if tenancy.is_instance_admin(user) and _admin_count() <= 1:
        raise Conflict("This is the last instance Admin.")
    sole_owner_of = [
        m.space_id
        for m in db.session.scalars(
            select(SpaceMembership).where(
                SpaceMembership.user_id == user.id, SpaceMembership.role == "owner"
            )
        )
        if tenancy._owner_count(m.space_id) <= 1
    ]
    if sole_owner_of:
        raise Conflict(
            "This account is the last owner of a space; transfer ownership first.",
        )
    activity.record(
        "admin.user.delete",
        actor=scope.user,
        space_id=scope.space_id,
        entity_type="user",
        entity_id=user.id,
        details={"email": user.email},
        info=info,
    )
    db.session.delete(user)
    db.session.commit()
