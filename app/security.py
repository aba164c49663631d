"""Boxset's Flask-AppBuilder security manager and declared roles.

Roles and their permissions are declared here, not clicked together; `flask boxset init`
writes them (idempotently) after the migrations. Sign-in is by database session (browser) or
API key (scripts); Flask-AppBuilder's JWT login API is not exposed, so every credential can be
revoked.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from flask import g, jsonify, request
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import (
    ResetMyPasswordView,
    ResetPasswordView,
    UserDBModelView,
    UserInfoEditView,
)
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash

from app.models import accounts as _accounts  # noqa: F401  (adds Boxset's user columns)

log = logging.getLogger("boxset.security")

API_KEY_TOUCH_INTERVAL = timedelta(minutes=5)
_VERIFIED_KEYS: OrderedDict[tuple[int, str, str], bool] = OrderedDict()
_VERIFIED_LOCK = threading.Lock()


def _verified(key_id: int, key_hash: str, raw: str) -> bool:
    """check_password_hash, remembered (bounded LRU) for a key id + stored hash + the raw key's
    SHA-256: a changed or rotated key misses the cache and is verified again."""
    entry = (key_id, key_hash, hashlib.sha256(raw.encode()).hexdigest())
    with _VERIFIED_LOCK:
        if entry in _VERIFIED_KEYS:
            _VERIFIED_KEYS.move_to_end(entry)
            return True
    if not check_password_hash(key_hash, raw):
        return False
    with _VERIFIED_LOCK:
        _VERIFIED_KEYS[entry] = True
        while len(_VERIFIED_KEYS) > 1024:
            _VERIFIED_KEYS.popitem(last=False)
    return True


ADMIN_ROLE = "Admin"
MEMBER_ROLE = "Member"

# (permission, view-menu) pairs every signed-in member holds. Later features add theirs.
MEMBER_PERMISSIONS: list[tuple[str, str]] = [
    ("can_userinfo", "UserDBModelView"),
    ("can_get", "OpenApi"),
    ("can_show", "SwaggerView"),
    ("can_get", "MenuApi"),
]


class SessionOnlySecurityApi(SecurityApi):
    """Flask-AppBuilder's security API without its JWT login/refresh routes (overriding the
    methods drops their `@expose`): JWTs cannot be revoked, sessions and API keys can."""

    def login(self):  # type: ignore[override]
        return self.response_404()

    def refresh(self):  # type: ignore[override]
        return self.response_404()


class ReadOnlyUserView(UserDBModelView):
    """Flask-AppBuilder's user screens, read-only: accounts change through Boxset's own pages
    and API, which keep the last-owner/last-Admin rules, end sessions and write the log."""

    base_permissions = ["can_list", "can_show", "can_userinfo"]


class NoPasswordFormView(ResetMyPasswordView):
    """Passwords change on the profile page (current password required, other sessions end)."""

    base_permissions: list[str] = []


class NoAdminPasswordFormView(ResetPasswordView):
    base_permissions: list[str] = []


class NoUserInfoEditView(UserInfoEditView):
    base_permissions: list[str] = []


def _request_info():
    from app.session_store import request_info

    return request_info(request)


class BoxsetSecurityManager(SecurityManager):
    security_api = SessionOnlySecurityApi
    userdbmodelview = ReadOnlyUserView
    resetmypasswordview = NoPasswordFormView
    resetpasswordview = NoAdminPasswordFormView
    userinfoeditview = NoUserInfoEditView

    def validate_api_key(self, api_key_string: str):
        """Flask-AppBuilder's check, made cheap enough for every request: the key row is still
        looked up each time (a deleted or deactivated key stops working at once), but the slow
        hash is verified once per process for a given key and stored hash, and `last_used_on`
        is written at most every few minutes instead of on every call."""
        lookup = self._compute_lookup_hash(api_key_string)
        api_key = (
            self.session.query(self.api_key_model)
            .filter(self.api_key_model.lookup_hash == lookup)
            .one_or_none()
        )
        if api_key is None or not api_key.is_active:
            return None
        if not _verified(api_key.id, api_key.key_hash, api_key_string):
            log.warning("API key lookup hash matched but slow hash failed")
            return None
        user = api_key.user
        if not user or not user.is_active:
            return None
        now = datetime.now()
        if api_key.last_used_on is None or now - api_key.last_used_on > API_KEY_TOUCH_INTERVAL:
            api_key.last_used_on = now
            try:  # a bookkeeping write: a busy or read-only database must not fail the call
                self.session.commit()
            except SQLAlchemyError:
                self.session.rollback()
        g.user = user
        g._api_key_user = True
        return user

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)

        @jwt_manager.invalid_token_loader
        def _invalid_token(reason: str):  # default is 422 "Not enough segments"
            return jsonify(message="The bearer token is invalid.", code="not_authenticated"), 401

        @jwt_manager.unauthorized_loader
        def _missing_token(reason: str):
            return jsonify(message="Sign in to continue.", code="not_authenticated"), 401

        @jwt_manager.expired_token_loader
        def _expired_token(header, payload):
            return jsonify(message="The bearer token has expired.", code="not_authenticated"), 401

        return jwt_manager

    # --- sign-in auditing (form login and the JSON API share these) ---------------------------

    def auth_user_db(self, username, password):
        user = super().auth_user_db(username.strip().lower() if username else username, password)
        if user is None:
            from app.services import activity

            typed = (username or "").strip()
            looks_like_email = "@" in typed and " " not in typed and len(typed) <= 320
            activity.record_now(
                "auth.login.failed",
                # Only what looks like an email: a password typed in the wrong box stays out.
                details={"email": typed.lower() if looks_like_email else "(not an email address)"},
                info=_request_info(),
            )
        return user

    def update_user_auth_stat(self, user, success=True):
        user.login_count = user.login_count or 0
        user.fail_login_count = user.fail_login_count or 0
        if success:
            user.login_count += 1
            user.last_login = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC
            user.fail_login_count = 0
        else:
            user.fail_login_count += 1
        self.update_user(user)
        if success:
            self.on_user_login(user)
        else:
            self.on_user_login_failed(user)

    def on_user_login(self, user) -> None:
        from app.services import activity, tenancy

        space_id, _library = tenancy.active_scope_ids(user)
        activity.record_now(
            "auth.login",
            actor=user,
            space_id=space_id,
            entity_type="user",
            entity_id=user.id,
            info=_request_info(),
        )

    def on_user_logout(self, user) -> None:
        from app.services import activity

        if user is None or not getattr(user, "is_authenticated", False):
            return
        activity.record_account_event("auth.logout", user, info=_request_info(), commit=True)

    # --- roles ---------------------------------------------------------------------------------

    def bootstrap(self) -> dict[str, int]:
        """Create roles and every permission of the registered views (idempotent)."""
        # Roles only: the sqla manager's create_db() would create_all, and Alembic owns the schema.
        BaseSecurityManager.create_db(self)
        self.appbuilder.add_permissions(update_perms=True)
        self.sync_role_permissions(MEMBER_ROLE, MEMBER_PERMISSIONS)
        admin = self.find_role(ADMIN_ROLE)
        member = self.find_role(MEMBER_ROLE)
        return {
            "admin_permissions": len(admin.permissions) if admin else 0,
            "member_permissions": len(member.permissions) if member else 0,
        }

    def sync_role_permissions(self, role_name: str, pairs: list[tuple[str, str]]) -> None:
        role = self.add_role(role_name)
        for permission, view_menu in pairs:
            pv = self.add_permission_view_menu(permission, view_menu)
            if pv not in role.permissions:
                self.add_permission_role(role, pv)
