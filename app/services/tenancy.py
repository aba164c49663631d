"""Spaces, memberships, libraries and each user's active scope.

`resolve_scope()` is the one place that turns (user, requested space/library) into the scope
every other service filters by. Something in a space the caller is not in is `NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import utcnow
from app.models.tenancy import SPACE_ROLES, Library, Space, SpaceMembership, UserScope
from app.services import activity
from app.services.context import NO_REQUEST, RequestInfo

ADMIN_ROLE = "Admin"
ROLE_RANK = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}
DEFAULT_LIBRARY = "Movies"


def is_instance_admin(user: BoxsetUser) -> bool:
    return any(role.name == ADMIN_ROLE for role in user.roles)


@dataclass(frozen=True)
class Scope:
    user: BoxsetUser
    space_id: int
    library_id: int | None
    role: str  # the caller's effective role in the space
    instance_admin: bool

    @property
    def user_id(self) -> int:
        return self.user.id

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def require(self, role: str, what: str = "do that") -> None:
        if not self.at_least(role):
            raise Forbidden(f"Your role in this space ({self.role}) does not allow you to {what}.")


def membership(user_id: int, space_id: int) -> SpaceMembership | None:
    return db.session.scalar(
        select(SpaceMembership).where(
            SpaceMembership.user_id == user_id, SpaceMembership.space_id == space_id
        )
    )


def first_library(space_id: int) -> Library | None:
    return db.session.scalar(
        select(Library)
        .where(Library.space_id == space_id, Library.archived_at.is_(None))
        .order_by(Library.id)
        .limit(1)
    )


def _library_in_space(library_id: int, space_id: int) -> Library:
    library = db.session.get(Library, library_id)
    if library is None or library.space_id != space_id:
        raise NotFound("Library not found.")
    return library


def resolve_scope(
    user: BoxsetUser, space_id: int | None = None, library_id: int | str | None = None
) -> Scope:
    """The scope a request acts in: the named space/library if the caller may see it, else
    their active one. `library_id="all"` means every library of the space."""
    admin = is_instance_admin(user)
    if isinstance(library_id, int):
        # The library and the caller's membership of its space in one statement; the active
        # scope is not needed when the library is named.
        found = db.session.execute(
            select(Library, SpaceMembership.role)
            .outerjoin(
                SpaceMembership,
                (SpaceMembership.space_id == Library.space_id)
                & (SpaceMembership.user_id == user.id),
            )
            .where(Library.id == library_id)
        ).first()
        if found is None:
            raise NotFound("Library not found.")
        requested_library, role = found
        if space_id is not None and requested_library.space_id != space_id:
            raise NotFound("Library not found.")
        if role is None and not admin:
            raise NotFound("Space not found.")
        return Scope(
            user,
            requested_library.space_id,
            requested_library.id,
            "owner" if admin or role is None else role,
            admin,
        )
    # The active scope and the caller's membership of its space in one statement.
    found = db.session.execute(
        select(UserScope, SpaceMembership)
        .outerjoin(
            SpaceMembership,
            (SpaceMembership.space_id == UserScope.space_id)
            & (SpaceMembership.user_id == UserScope.user_id),
        )
        .where(UserScope.user_id == user.id)
    ).first()
    active, active_member = found if found is not None else (None, None)
    if space_id is None:
        if active is not None:
            space_id = active.space_id
        else:
            first = first_space_id(user.id)
            if first is None:
                raise NotFound("You are not a member of any space.")
            space_id = first
    if active is not None and active.space_id == space_id:
        member = active_member
    else:
        member = membership(user.id, space_id)
    if member is None and not (admin and db.session.get(Space, space_id) is not None):
        raise NotFound("Space not found.")
    role = member.role if member is not None else "owner"
    if admin:
        role = "owner"
    if library_id == "all":
        resolved_library = None
    elif active is not None and active.space_id == space_id and active.library_id is not None:
        resolved_library = active.library_id
    else:
        library = first_library(space_id)
        resolved_library = library.id if library else None
    return Scope(user, space_id, resolved_library, role, admin)


def set_active_scope(user_id: int, space_id: int, library_id: int | None) -> None:
    row = db.session.get(UserScope, user_id)
    if row is None:
        db.session.add(UserScope(user_id=user_id, space_id=space_id, library_id=library_id))
    else:
        row.space_id, row.library_id = space_id, library_id
    db.session.flush()


def scope_of_row(user: BoxsetUser, space_id: int | None, missing: str) -> Scope:
    """The scope of the space a row (an item, a merge…) lives in, every library of it, if the
    caller belongs there; else 404 with `missing`, whether the row or the membership is absent."""
    if space_id is None:
        raise NotFound(missing)
    try:
        return resolve_scope(user, space_id=space_id, library_id="all")
    except NotFound:
        raise NotFound(missing) from None


def active_scope_ids(user: BoxsetUser) -> tuple[int | None, int | None]:
    try:
        scope = resolve_scope(user)
    except NotFound:
        return None, None
    return scope.space_id, scope.library_id


def user_spaces(user: BoxsetUser) -> list[tuple[Space, str]]:
    rows = db.session.execute(
        select(Space, SpaceMembership.role)
        .join(SpaceMembership, SpaceMembership.space_id == Space.id)
        .where(SpaceMembership.user_id == user.id)
        .order_by(Space.name, Space.id)
    ).all()
    return [(space, role) for space, role in rows]


# --- spaces ---------------------------------------------------------------------------------


def create_space_for(
    user: BoxsetUser,
    name: str,
    *,
    library_name: str = DEFAULT_LIBRARY,
    info: RequestInfo,
    make_active: bool = True,
) -> tuple[Space, Library]:
    """A new space owned by `user`, with a first library; made their active scope when asked
    (or when they have none). Part of a unit of work: the caller commits."""
    space = Space(name=name.strip(), created_by=user.id)
    db.session.add(space)
    db.session.flush()
    db.session.add(SpaceMembership(space_id=space.id, user_id=user.id, role="owner"))
    library = Library(space_id=space.id, name=library_name, created_by=user.id)
    db.session.add(library)
    db.session.flush()
    if make_active or db.session.get(UserScope, user.id) is None:
        set_active_scope(user.id, space.id, library.id)
    activity.record(
        "space.create",
        actor=user,
        space_id=space.id,
        entity_type="space",
        entity_id=space.id,
        details={"name": space.name},
        info=info,
    )
    return space, library


def create_space(user: BoxsetUser, name: str, info: RequestInfo = NO_REQUEST) -> Space:
    """Create a space; the caller's active space changes only with `select_space`."""
    space, _library = create_space_for(user, name, info=info, make_active=False)
    db.session.commit()
    return space


def get_space(user: BoxsetUser, space_id: int) -> tuple[Space, Scope]:
    scope = resolve_scope(user, space_id=space_id)
    space = db.session.get(Space, space_id)
    if space is None:
        raise NotFound("Space not found.")
    return space, scope


def rename_space(user: BoxsetUser, space_id: int, name: str, info: RequestInfo) -> Space:
    space, scope = get_space(user, space_id)
    scope.require("admin", "rename this space")
    old = space.name
    space.name = name.strip()
    activity.record(
        "space.update",
        actor=user,
        space_id=space.id,
        entity_type="space",
        entity_id=space.id,
        details={"from": old, "to": space.name},
        info=info,
    )
    db.session.commit()
    return space


def delete_space(user: BoxsetUser, space_id: int, confirm_name: str | None, info: RequestInfo):
    space, scope = get_space(user, space_id)
    scope.require("owner", "delete this space")
    if confirm_name != space.name:
        raise Invalid({"confirm_name": ["Type the space's exact name to delete it."]})
    affected = db.session.scalars(
        select(UserScope.user_id).where(UserScope.space_id == space.id)
    ).all()
    activity.record(
        "space.delete",
        actor=user,
        space_id=None,
        entity_type="space",
        entity_id=space.id,
        details={"name": space.name},
        info=info,
    )
    db.session.delete(space)
    db.session.flush()
    for user_id in affected:  # their scope rows went with the space: pick another of theirs
        _reassign_scope(user_id)
    db.session.commit()


def select_space(user: BoxsetUser, space_id: int, info: RequestInfo) -> Scope:
    resolve_scope(user, space_id=space_id)  # 404 unless the caller may see the space
    if membership(user.id, space_id) is None:
        # Instance Admins may look into any space, but their active scope is one they belong to.
        raise Forbidden("Join this space before making it your active space.")
    library = first_library(space_id)
    set_active_scope(user.id, space_id, library.id if library else None)
    activity.record(
        "space.select",
        actor=user,
        space_id=space_id,
        entity_type="space",
        entity_id=space_id,
        info=info,
    )
    db.session.commit()
    return resolve_scope(user)


# --- members --------------------------------------------------------------------------------


def _owner_count(space_id: int) -> int:
    """Owners of the space, with their rows locked until commit, so two owners demoting each
    other at the same moment cannot leave the space without one (PostgreSQL; SQLite writers
    are serialised by BEGIN IMMEDIATE)."""
    owners = db.session.scalars(
        select(SpaceMembership.id)
        .where(SpaceMembership.space_id == space_id, SpaceMembership.role == "owner")
        .with_for_update()
    ).all()
    return len(owners)


def list_members(user: BoxsetUser, space_id: int) -> list[tuple[BoxsetUser, SpaceMembership]]:
    scope = resolve_scope(user, space_id=space_id)
    scope.require("admin", "manage members")
    rows = db.session.execute(
        select(BoxsetUser, SpaceMembership)
        .join(SpaceMembership, SpaceMembership.user_id == BoxsetUser.id)
        .where(SpaceMembership.space_id == space_id)
        .order_by(BoxsetUser.email)
    ).all()
    return [(u, m) for u, m in rows]


def _member_of(scope: Scope, user_id: int) -> SpaceMembership:
    member = membership(user_id, scope.space_id)
    if member is None:
        raise NotFound("Member not found.")
    return member


def change_member_role(
    actor: BoxsetUser,
    space_id: int,
    user_id: int,
    role: str,
    info: RequestInfo,
    *,
    commit: bool = True,
) -> SpaceMembership:
    if role not in SPACE_ROLES:
        raise Invalid({"role": [f"Must be one of: {', '.join(SPACE_ROLES)}."]})
    scope = resolve_scope(actor, space_id=space_id)
    scope.require("admin", "change roles")
    member = _member_of(scope, user_id)
    if "owner" in (role, member.role) and not scope.at_least("owner"):
        raise Forbidden("Only an owner can make or unmake owners.")
    if member.role == "owner" and role != "owner" and _owner_count(space_id) <= 1:
        raise Conflict("This is the space's last owner; make someone else owner first.")
    old = member.role
    member.role = role
    activity.record(
        "admin.user.role.update",
        actor=actor,
        space_id=space_id,
        entity_type="user",
        entity_id=user_id,
        details={"from": old, "to": role, "scope": "space"},
        info=info,
    )
    if commit:
        db.session.commit()
    return member


def remove_member(
    actor: BoxsetUser,
    space_id: int,
    user_id: int,
    info: RequestInfo,
    *,
    action: str | None = None,
) -> None:
    scope = resolve_scope(actor, space_id=space_id)
    leaving = user_id == actor.id
    if not leaving:
        scope.require("admin", "remove members")
    member = _member_of(scope, user_id)
    if member.role == "owner":
        if not leaving and not scope.at_least("owner"):
            raise Forbidden("Only an owner can remove an owner.")
        if _owner_count(space_id) <= 1:
            raise Conflict("This is the space's last owner; make someone else owner first.")
    db.session.delete(member)
    db.session.flush()
    _reassign_scope(user_id)
    activity.record(
        action or ("space.member.leave" if leaving else "space.member.remove"),
        actor=actor,
        space_id=space_id,
        entity_type="user",
        entity_id=user_id,
        details={"role": member.role, "scope": "space"},
        info=info,
    )
    db.session.commit()


def first_space_id(user_id: int) -> int | None:
    """The space the user joined first."""
    return db.session.scalar(
        select(SpaceMembership.space_id)
        .where(SpaceMembership.user_id == user_id)
        .order_by(SpaceMembership.id)
        .limit(1)
    )


def join_space(user_id: int, space_id: int, role: str) -> None:
    """Add a membership and make the space (and its first library) the user's active scope."""
    db.session.add(SpaceMembership(space_id=space_id, user_id=user_id, role=role))
    db.session.flush()
    library = first_library(space_id)
    set_active_scope(user_id, space_id, library.id if library else None)


def _reassign_scope(user_id: int) -> None:
    """A user without an active scope gets their first remaining space (if any)."""
    if db.session.get(UserScope, user_id) is not None:
        return
    other = first_space_id(user_id)
    if other is not None:
        library = first_library(other)
        set_active_scope(user_id, other, library.id if library else None)


# --- libraries ------------------------------------------------------------------------------


def list_libraries(scope: Scope, include_archived: bool = False) -> list[Library]:
    query = select(Library).where(Library.space_id == scope.space_id)
    if not include_archived:
        query = query.where(Library.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(Library.name, Library.id)))


def _unique_name(space_id: int, name: str, exclude_id: int | None = None) -> None:
    query = select(Library.id).where(
        Library.space_id == space_id, func.lower(Library.name) == name.lower()
    )
    if exclude_id is not None:
        query = query.where(Library.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise Conflict("A library with that name already exists in this space.")


def create_library(scope: Scope, name: str, description: str | None, info: RequestInfo) -> Library:
    scope.require("admin", "create libraries")
    name = name.strip()
    _unique_name(scope.space_id, name)
    library = Library(
        space_id=scope.space_id, name=name, description=description, created_by=scope.user_id
    )
    db.session.add(library)
    db.session.flush()
    activity.record(
        "library.create",
        actor=scope.user,
        space_id=scope.space_id,
        entity_type="library",
        entity_id=library.id,
        details={"name": name},
        info=info,
    )
    db.session.commit()
    return library


def update_library(scope: Scope, library_id: int, changes: dict, info: RequestInfo) -> Library:
    scope.require("admin", "change libraries")
    library = _library_in_space(library_id, scope.space_id)
    if "name" in changes:
        _unique_name(scope.space_id, changes["name"].strip(), exclude_id=library.id)
        library.name = changes["name"].strip()
    if "description" in changes:
        library.description = changes["description"]
    activity.record(
        "library.update",
        actor=scope.user,
        space_id=scope.space_id,
        entity_type="library",
        entity_id=library.id,
        details={k: v for k, v in changes.items()},
        info=info,
    )
    db.session.commit()
    return library


def select_library(user: BoxsetUser, library_id: int, info: RequestInfo) -> Scope:
    scope = resolve_scope(user, library_id=library_id)
    library = _library_in_space(library_id, scope.space_id)
    if library.archived_at is not None:
        raise Conflict("That library is archived; unarchive it first.")
    if membership(user.id, scope.space_id) is None:
        raise Forbidden("Join this space before making one of its libraries active.")
    set_active_scope(user.id, scope.space_id, library.id)
    activity.record(
        "library.select",
        actor=user,
        space_id=scope.space_id,
        entity_type="library",
        entity_id=library.id,
        info=info,
    )
    db.session.commit()
    return resolve_scope(user)


def _confirm(library: Library, confirm_name: str | None) -> None:
    if confirm_name != library.name:
        raise Invalid({"confirm_name": ["Type the library's exact name to confirm."]})


def _move_active_scopes_off(library: Library) -> None:
    replacement = db.session.scalar(
        select(Library)
        .where(
            Library.space_id == library.space_id,
            Library.archived_at.is_(None),
            Library.id != library.id,
        )
        .order_by(Library.id)
        .limit(1)
    )
    for row in db.session.scalars(select(UserScope).where(UserScope.library_id == library.id)):
        row.library_id = replacement.id if replacement else None
    db.session.flush()


def set_library_archived(
    scope: Scope, library_id: int, confirm_name: str | None, archived: bool, info: RequestInfo
) -> Library:
    """Archive (hide, and move everyone who had it active) or bring back a library."""
    verb = "archive" if archived else "unarchive"
    scope.require("admin", f"{verb} libraries")
    library = _library_in_space(library_id, scope.space_id)
    _confirm(library, confirm_name)
    if (library.archived_at is not None) != archived:
        library.archived_at = utcnow() if archived else None
        if archived:
            _move_active_scopes_off(library)
        activity.record(
            f"library.{verb}",
            actor=scope.user,
            space_id=scope.space_id,
            entity_type="library",
            entity_id=library.id,
            details={"name": library.name},
            info=info,
        )
    db.session.commit()
    return library


def delete_library(
    scope: Scope,
    library_id: int,
    *,
    confirm_name: str | None,
    media: str | None,
    target_library_id: int | None,
    info: RequestInfo,
) -> None:
    """Delete a library. Its items are moved to `target_library_id` (`media="move"`) or
    deleted with it (`media="delete"`); which one must be chosen explicitly."""
    scope.require("admin", "delete libraries")
    library = _library_in_space(library_id, scope.space_id)
    _confirm(library, confirm_name)
    if media not in ("move", "delete"):
        raise Invalid({"media": ['Choose "move" (to another library) or "delete".']})
    target = None
    if media == "move":
        if target_library_id is None:
            raise Invalid({"target_library_id": ["Choose the library to move the items to."]})
        if target_library_id == library.id:
            raise Invalid({"target_library_id": ["Choose another library."]})
        target = _library_in_space(target_library_id, scope.space_id)
    moved = _relocate_library_contents(library, target)
    _move_active_scopes_off(library)
    activity.record(
        "library.delete",
        actor=scope.user,
        space_id=scope.space_id,
        entity_type="library",
        entity_id=library.id,
        details={
            "name": library.name,
            "media": media,
            "target_library_id": target_library_id,
            "items": moved,
        },
        info=info,
    )
    db.session.delete(library)
    db.session.commit()


def _relocate_library_contents(library: Library, target: Library | None) -> int:
    """Move (or, without a target, delete) every row that belongs to the library; returns how
    many items were affected. Tables that reference libraries register here as they arrive."""
    affected = 0
    for relocate in LIBRARY_CONTENT_HANDLERS:
        affected += relocate(library, target)
    return affected


# Functions (library, target_or_None) -> count, added by domains whose rows live in a library.
LIBRARY_CONTENT_HANDLERS: list = []
