"""Covers kept on the local disk, served to signed-in members of the item's space."""

from __future__ import annotations

from flask import Response, abort
from flask_appbuilder import BaseView, expose
from flask_login import current_user
from sqlalchemy import or_, select

from app.errors import NotAuthenticated, NotFound
from app.extensions import db
from app.models.media import Media
from app.services import tenancy
from app.services.storage import storage, valid_key


class CoversView(BaseView):
    route_base = "/covers"
    default_view = "cover"

    @expose("/<name>")
    def cover(self, name: str):
        key = f"covers/{name}"
        if not valid_key(key):
            raise NotFound()
        if not current_user.is_authenticated:
            raise NotAuthenticated()
        base = key.replace("-thumb.jpg", ".jpg")
        space_ids = set(
            db.session.scalars(select(Media.space_id).where(or_(Media.cover_key == base)))
        )
        user = current_user._get_current_object()
        # A cover on items: only their households see it. A fresh upload (no item yet) is
        # addressed by an unguessable 128-bit name.
        if space_ids and not any(
            tenancy.membership(user.id, space_id) or tenancy.is_instance_admin(user)
            for space_id in space_ids
        ):
            raise NotFound()
        data = storage().load(key)
        if data is None:
            abort(404)
        response = Response(data, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, max-age=86400, immutable"
        return response
