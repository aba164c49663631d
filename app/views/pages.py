"""Server-rendered pages for members and space admins. Each page is a thin shell; its data and
actions go through the JSON API (same rules, same audit). What a page and the navigation show
is decided here, from the server's view of the caller's role, on every request."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, request
from flask_appbuilder import BaseView, expose
from flask_login import current_user

from app.errors import NotFound
from app.models.media import FORMATS
from app.services import tenancy
from app.services.accounts import public_user


def _signed_in_user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def navigation() -> dict[str, Any] | None:
    """The navigation of the signed-in user: spaces, the active space's libraries, and which
    sections their role may use."""
    user = _signed_in_user()
    if user is None:
        return None
    spaces = [{"id": s.id, "name": s.name, "role": role} for s, role in tenancy.user_spaces(user)]
    try:
        scope = tenancy.resolve_scope(user)
    except NotFound:
        scope = None
    libraries = tenancy.list_libraries(scope) if scope else []
    active = next((s for s in spaces if scope and s["id"] == scope.space_id), None)
    return {
        "user": public_user(user),
        "spaces": spaces,
        "active_space": active,
        "active_library_id": scope.library_id if scope else None,
        "libraries": [{"id": lib.id, "name": lib.name} for lib in libraries],
        "role": scope.role if scope else None,
        "space_admin": bool(scope and scope.at_least("admin")),
        "instance_admin": tenancy.is_instance_admin(user),
    }


class PagesView(BaseView):
    route_base = ""
    default_view = "profile"

    def _page(self, template: str, *, need: str | None = None, **context: Any):
        user = _signed_in_user()
        if user is None:
            return redirect(f"{self.appbuilder.get_url_for_login}?next={request.path}")
        try:
            scope = tenancy.resolve_scope(user)
        except NotFound:
            scope = None
        if need is not None and (scope is None or not scope.at_least(need)):
            return self.render_template("boxset/not_allowed.html", need=need), 403
        return self.render_template(template, scope=scope, **context)

    @expose("/register")
    def register(self):
        invite = request.args.get("invite", "")[:256]
        if _signed_in_user() is not None:
            if invite:  # someone with an account joins another household
                return self.render_template("boxset/join.html", invite=invite)
            return redirect(self.appbuilder.get_url_for_index)
        return self.render_template("boxset/register.html", invite=invite)

    @expose("/profile")
    def profile(self):
        return self._page("boxset/profile.html")

    @expose("/spaces")
    def spaces(self):
        return self._page("boxset/spaces.html")

    @expose("/libraries/manage")
    def manage_libraries(self):
        return self._page("boxset/libraries.html", need="admin")

    @expose("/libraries/<int:library_id>")
    def library(self, library_id: int):
        user = _signed_in_user()
        if user is None:
            return redirect(f"{self.appbuilder.get_url_for_login}?next={request.path}")
        scope = tenancy.resolve_scope(user, library_id=library_id)
        libraries = {lib.id: lib for lib in tenancy.list_libraries(scope, include_archived=True)}
        kind = request.args.get("type", "")
        return self._page(
            "boxset/library.html",
            library=libraries[library_id],
            kind=kind if kind in ("movie", "tv", "other") else "",
            formats=FORMATS,
        )

    @expose("/import")
    def import_page(self):
        user = _signed_in_user()
        library = None
        if user is not None:
            try:
                scope = tenancy.resolve_scope(user)
                library = next(
                    (lib for lib in tenancy.list_libraries(scope) if lib.id == scope.library_id),
                    None,
                )
            except NotFound:
                library = None
        return self._page(
            "boxset/import.html", need="member", library_name=library.name if library else None
        )

    @expose("/members")
    def members(self):
        return self._page("boxset/members.html", need="admin")

    @expose("/invitations")
    def invitations(self):
        return self._page("boxset/invitations.html", need="admin")

    @expose("/activity")
    def activity(self):
        return self._page("boxset/activity.html", need="admin")

    @expose("/integrations")
    def integrations(self):
        return self._page("boxset/integrations.html", need="admin")

    @expose("/feature-flags")
    def feature_flags(self):
        user = _signed_in_user()
        if user is not None and not tenancy.is_instance_admin(user):
            return self._page("boxset/feature_flags.html", allowed=False), 403
        return self._page("boxset/feature_flags.html", allowed=True)

    @expose("/duplicates")
    def duplicates(self):
        return self._page("boxset/duplicates.html", need="member")


def init_pages(app: Flask) -> None:
    @app.context_processor
    def _navigation() -> dict[str, Any]:
        if request.path.startswith(("/api/", "/static/")):
            return {}
        if "boxset_nav" not in g:
            try:
                g.boxset_nav = navigation()
            except Exception:  # the error page must render even when the database is down
                g.boxset_nav = None
        return {"nav": g.boxset_nav}
