"""Every view and API is registered here, in menu order: this is the whole UI and API surface."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.views.auth import AuthApi
from app.views.health import HealthApi


def register_views(appbuilder: AppBuilder) -> None:
    appbuilder.add_api(HealthApi)
    appbuilder.add_api(AuthApi)
