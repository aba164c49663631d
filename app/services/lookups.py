"""Looking titles up for the add form and the Barcode / Cover photo tabs: TMDB search and
details, barcode → candidate titles → TMDB matches, cover photo → OCR text → TMDB matches, and
the integration Test buttons. Clients are built from the space's effective settings; a provider
failure raises ProviderError (the API answers 502 naming the provider and the reason)."""

from __future__ import annotations

from typing import Any

from app.errors import UnsupportedMediaType
from app.providers.barcode import BarcodeClient
from app.providers.http import HttpOptions, ProviderError
from app.providers.plex import PlexClient
from app.providers.tmdb import TmdbClient
from app.providers.vision import VisionClient, shrink_image
from app.services import integrations
from app.services.tenancy import Scope

CLIENTS = {"tmdb": TmdbClient, "barcode": BarcodeClient, "vision": VisionClient, "plex": PlexClient}
TMDB_CANDIDATES = 6  # title candidates looked up on TMDB per photo


def _options(scope: Scope, provider: str) -> HttpOptions:
    """Look-ups share the process's HTTP client of each configuration; naming the space lets
    the client of a configuration it has since replaced be closed (see http.ClientPool)."""
    return HttpOptions(owner=("space", scope.space_id, provider))


def _client(scope: Scope, provider: str):
    # Look-ups serve adding items (and spend the space's provider quota): members and up.
    scope.require("member", "look titles up")
    settings = integrations.provider_settings(scope.space_id, provider, actor=scope.user)
    return CLIENTS[provider].from_settings(settings, options=_options(scope, provider))


def search_tmdb(scope: Scope, title: str, year: int | None, media_type: str) -> list[dict]:
    with _client(scope, "tmdb") as tmdb:
        return tmdb.search(title, year, media_type)


def tmdb_details(scope: Scope, tmdb_id: int, media_type: str) -> dict[str, Any]:
    with _client(scope, "tmdb") as tmdb:
        return tmdb.details(tmdb_id, media_type)


def _first_match(tmdb: TmdbClient | None, titles: list[str], media_type: str = "movie"):
    """The best TMDB hit for the first candidate title that has one (None without TMDB)."""
    if tmdb is None:
        return None
    for title in titles:
        hits = tmdb.search(title, None, media_type, limit=1)
        if hits:
            return hits[0]
    return None


def _tmdb_or_none(scope: Scope) -> TmdbClient | None:
    """TMDB when it is set up; lookups still answer with the provider's titles without it."""
    settings = integrations.provider_settings(scope.space_id, "tmdb", actor=scope.user)
    if not settings.api_key:
        return None
    return TmdbClient.from_settings(settings, options=_options(scope, "tmdb"))


def lookup_upc(scope: Scope, upc: str) -> dict[str, Any]:
    with _client(scope, "barcode") as barcode:
        found = barcode.lookup(upc)
    tmdb = _tmdb_or_none(scope)
    try:
        matches = []
        for match in found["matches"]:
            kind = "tv" if match.get("season_number") else "movie"
            titles = match.get("search_titles") or [match["title"]]
            matches.append({**match, "tmdb": _first_match(tmdb, titles, kind)})
    finally:
        if tmdb is not None:
            tmdb.close()
    return {"upc": found["upc"], "provider": found["provider"], "matches": matches}


def recognize_cover(scope: Scope, image: bytes) -> dict[str, Any]:
    try:
        small, kind = shrink_image(image)
    except ValueError as exc:
        raise UnsupportedMediaType(f"Not a readable photo: {exc}") from None
    with _client(scope, "vision") as vision:
        found = vision.recognize(small, kind)
    candidates = found["title_candidates"]
    tmdb_matches: list[dict] = []
    tmdb = _tmdb_or_none(scope)
    if tmdb is not None:
        with tmdb:
            seen: set[int] = set()
            for title in candidates[:TMDB_CANDIDATES]:
                hit = _first_match(tmdb, [title])
                if hit and hit["tmdb_id"] not in seen:
                    seen.add(hit["tmdb_id"])
                    tmdb_matches.append(hit)
    return {
        "extracted_text": found["text"][:2000],
        "title_candidates": candidates,
        "tmdb_matches": tmdb_matches,
        "detail": found.get("detail"),
    }


def test_provider(scope: Scope, provider: str) -> dict[str, Any]:
    """The Test button: `{ok, authenticated, status, detail}` (Plex also `sections`)."""
    scope.require("admin", "test integrations")
    try:
        client = _client(scope, provider)
    except ProviderError as exc:
        return {"ok": False, "authenticated": None, "status": None, "detail": exc.message}
    with client:
        return client.test()
