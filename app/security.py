"""Boxset's Flask-AppBuilder security manager and declared roles.

Roles and their permissions are declared here, not clicked together; `flask boxset init`
writes them (idempotently) after the migrations.
"""

from __future__ import annotations

import logging

from flask import jsonify
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager

log = logging.getLogger("boxset.security")

ADMIN_ROLE = "Admin"
MEMBER_ROLE = "Member"

# (permission, view-menu) pairs every signed-in member holds. Later features add theirs.
MEMBER_PERMISSIONS: list[tuple[str, str]] = [
    ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_get", "OpenApi"),
    ("can_show", "SwaggerView"),
    ("can_get", "MenuApi"),
]


class BoxsetSecurityApi(SecurityApi):
    """FAB's JWT login, under the `auth` rate-limit class."""

    rate_limits = [("auth", ("POST",))]


class BoxsetSecurityManager(SecurityManager):
    security_api = BoxsetSecurityApi

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
