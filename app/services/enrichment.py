"""Filling imported rows from TMDB (an import's `enrich` option): one job-wide TMDB client with
the provider's shared throttle and a per-job cache, so throughput is bounded by the throttle and
a title asked twice is fetched once. Only what a row lacks is filled; each row's report says
`enriched`, `no_match` or `failed` (with the provider's reason)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from app.models.media import TV_TYPES
from app.providers.http import (
    HttpOptions,
    ProviderError,
    ProviderNotFound,
    ResponseCache,
    throttle_for,
)
from app.providers.tmdb import TmdbClient
from app.services import imports, integrations
from app.services.imports import ImportRow

KEEP_FROM_ROW = ("title", "media_type", "format", "user_rating", "location", "notes", "upc")


class Enricher:
    def __init__(self, space_id: int) -> None:
        settings = integrations.provider_settings(space_id, "tmdb")
        self.client: TmdbClient | None = None
        self.reason = "TMDB is not set up for this space (add a key under Integrations)."
        if settings.api_key:
            options = HttpOptions(throttle=throttle_for("tmdb"), cache=ResponseCache())
            self.client = TmdbClient.from_settings(settings, options=options)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def enrich(self, row: ImportRow) -> None:
        if row.skip or row.error or not row.fields:
            return
        if self.client is None:
            row.enrichment, row.enrichment_detail = "failed", self.reason
            return
        f = row.fields
        kind = "tv" if f.get("media_type") in TV_TYPES else "movie"
        try:
            tmdb_id = f.get("tmdb_id")
            if not tmdb_id:
                hits = self.client.search(f["title"], f.get("year"), kind, limit=1)
                if not hits:
                    row.enrichment = "no_match"
                    row.enrichment_detail = f"TMDB has no {kind} called {f['title']!r}."
                    return
                tmdb_id = hits[0]["tmdb_id"]
            found = self.client.details(tmdb_id, kind)
        except ProviderNotFound as exc:
            row.enrichment, row.enrichment_detail = "no_match", exc.message
            return
        except ProviderError as exc:
            row.enrichment, row.enrichment_detail = "failed", exc.message
            return
        seasons = found.pop("seasons", None)
        try:  # TMDB's answer goes through the item schema too (types, limits)
            found = imports._schema().load({k: v for k, v in found.items() if v is not None})
        except ValidationError as exc:
            row.enrichment = "failed"
            row.enrichment_detail = "TMDB's details do not fit: " + imports._messages(exc.messages)
            return
        if seasons:
            found["seasons"] = seasons
        filled = _fill(row, found)
        row.enrichment = "enriched"
        row.enrichment_detail = f"TMDB {kind} {tmdb_id}: " + (
            ", ".join(filled) if filled else "nothing missing"
        )


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def _fill(row: ImportRow, found: dict[str, Any]) -> list[str]:
    filled = []
    for name, value in found.items():
        if name in KEEP_FROM_ROW or name == "seasons" or _empty(value):
            continue
        if _empty(row.fields.get(name)):
            row.fields[name] = value
            filled.append(name)
    if row.fields.get("media_type") == "tv_series" and not row.seasons and found.get("seasons"):
        row.seasons = found["seasons"]
        filled.append("seasons")
    return filled
