"""The landing page: signed-in members see their home, everyone else the sign-in page."""

from __future__ import annotations

from flask import g, redirect
from flask_appbuilder import IndexView, expose


class HomeView(IndexView):
    route_base = ""
    index_template = "boxset/index.html"

    @expose("/")
    def index(self):
        user = g.get("user")
        if user is None or not user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return self.render_template(self.index_template, appbuilder=self.appbuilder)
