"""Every view and API is registered here, in menu order: this is the whole UI and API surface."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.views.admin import AdminApi
from app.views.auth import AuthApi
from app.views.covers import CoversView
from app.views.duplicates import DuplicatesApi
from app.views.health import HealthApi
from app.views.imports import ImportsApi, SyncJobsApi
from app.views.integrations import FeatureFlagsApi, IntegrationSettingsApi
from app.views.lookups import IntegrationTestsApi, LookupsApi
from app.views.media import MediaApi
from app.views.pages import PagesView
from app.views.spaces import LibrariesApi, SpacesApi


def register_views(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(PagesView)
    appbuilder.add_view_no_menu(CoversView)
    appbuilder.add_api(HealthApi)
    appbuilder.add_api(AuthApi)
    appbuilder.add_api(SpacesApi)
    appbuilder.add_api(LibrariesApi)
    appbuilder.add_api(AdminApi)
    appbuilder.add_api(IntegrationSettingsApi)
    appbuilder.add_api(IntegrationTestsApi)
    appbuilder.add_api(FeatureFlagsApi)
    appbuilder.add_api(MediaApi)
    appbuilder.add_api(LookupsApi)
    appbuilder.add_api(ImportsApi)
    appbuilder.add_api(SyncJobsApi)
    appbuilder.add_api(DuplicatesApi)
