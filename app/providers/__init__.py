"""Clients for the outside services Boxset reads: TMDB, barcode lookup, cover OCR and Plex.

Each client is built from the effective integration settings (`Client.from_settings(...)`)
or from explicit URL and key, takes `HttpOptions` (timeout, retries, a throttle and a cache
a job shares between its workers) and raises `ProviderError` — an AppError the API answers
with 502 `upstream_error` (`ProviderNotFound`: 404 `not_found`) — with a message naming the
provider and the reason. Keys and tokens never appear in a log line or an error message.
"""

from app.providers.barcode import BarcodeClient, InvalidBarcode, normalise_upc, search_titles
from app.providers.http import (
    HttpOptions,
    ProviderAuthError,
    ProviderError,
    ProviderNotConfigured,
    ProviderNotFound,
    ProviderRateLimited,
    ResponseCache,
    RetryPolicy,
    Throttle,
    throttle_for,
)
from app.providers.plex import PlexClient, PlexItem, UnsupportedSection, resolution_from
from app.providers.tmdb import TmdbClient
from app.providers.vision import VisionClient, shrink_image, title_candidates

__all__ = [
    "BarcodeClient",
    "HttpOptions",
    "InvalidBarcode",
    "PlexClient",
    "PlexItem",
    "ProviderAuthError",
    "ProviderError",
    "ProviderNotConfigured",
    "ProviderNotFound",
    "ProviderRateLimited",
    "ResponseCache",
    "RetryPolicy",
    "Throttle",
    "TmdbClient",
    "UnsupportedSection",
    "VisionClient",
    "normalise_upc",
    "resolution_from",
    "search_titles",
    "shrink_image",
    "throttle_for",
    "title_candidates",
]
