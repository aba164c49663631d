"""Plex import (formats.md B): the chosen sections of the space's Plex server, page by page.

Every edition or version of a work shares its Plex guid, which is the row's identity: the first
one creates the item, the others add their variants to it (the row is `updated`). Shows become
`tv_series` items with their seasons. Row numbers continue across sections; `source_key` is the
Plex ratingKey.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.errors import Invalid
from app.models.imports import SyncJob
from app.providers.http import HttpOptions, ResponseCache, RetryPolicy, throttle_for
from app.providers.plex import PlexClient, PlexItem
from app.services import imports, integrations
from app.services.imports import ImportRejected, ImportRow, validated_row

SECTION_TYPES = ("movie", "show")
PAGE = 500  # items per request: large pages, few calls under the shared throttle


def _client(space_id: int, *, job: bool) -> tuple[PlexClient, list[dict[str, Any]]]:
    settings = integrations.provider_settings(space_id, "plex")
    if not settings.api_url or not settings.api_token:
        raise ImportRejected("Plex is not set up: add its URL and token under Integrations.")
    options = HttpOptions(
        throttle=throttle_for("plex"),
        cache=ResponseCache() if job else None,
        retry=RetryPolicy(retry_timeouts=job),
    )
    return PlexClient.from_settings(settings, options=options), list(settings.sections or [])


def choose_sections(space_id: int, section_keys: list[str] | None) -> tuple[list[dict], int]:
    """The sections to import (the saved ones unless keys are given, checked against what the
    server has) and how many items they hold. Provider failures answer 502."""
    client, saved = _client(space_id, job=False)
    with client:
        available = {str(s["key"]): s for s in client.sections()}
        if section_keys:
            unknown = [k for k in section_keys if str(k) not in available]
            if unknown:
                raise Invalid(
                    {"section_keys": [f"Not a section of this server: {', '.join(unknown)}."]}
                )
            chosen = [available[str(k)] for k in section_keys]
        else:
            chosen = [available[str(s["key"])] for s in saved if str(s["key"]) in available]
        chosen = [
            {"key": str(s["key"]), "title": s.get("title"), "type": s.get("type")} for s in chosen
        ]
        unsupported = [s["title"] or s["key"] for s in chosen if s["type"] not in SECTION_TYPES]
        if unsupported:
            raise Invalid(
                {
                    "section_keys": [
                        f"Only movie and TV sections can be imported ({', '.join(unsupported)})."
                    ]
                }
            )
        if not chosen:
            raise Invalid(
                {
                    "section_keys": [
                        "Choose at least one Plex section (Integrations, or section_keys)."
                    ]
                }
            )
        total = sum(client.count_items(s["key"], s["type"]) or 0 for s in chosen)
    return chosen, total


def _row(position: int, item: PlexItem) -> ImportRow:
    extra: dict[str, Any] = {
        "source_key": item.rating_key or None,
        "source_kind": "plex",
        "identity": item.guid or (f"ratingKey:{item.section_key}:{item.rating_key}"),
    }
    if item.skip_reason:
        return ImportRow(row=position, title=item.title, skip=item.skip_reason, **extra)
    fields = {k: v for k, v in item.fields.items() if v not in (None, [], "")}
    row = validated_row(position, fields, **extra)
    row.variants = item.variants
    row.seasons = item.seasons
    row.metadata = {"plex_guid": item.guid or "", "plex_section": item.section_key}
    if item.edition_title:
        row.note = f"edition: {item.edition_title}"
    return row


def read(job: SyncJob, _data: bytes | None) -> Iterator[ImportRow]:
    sections = (job.options or {}).get("sections") or []
    client, _saved = _client(job.space_id, job=True)
    with client:
        if job.progress_total is None:
            imports.set_total(
                job, sum(client.count_items(s["key"], s["type"]) or 0 for s in sections)
            )
        position = 0
        for section in sections:
            pages = client.iter_items(section["key"], section_type=section["type"], page_size=PAGE)
            for item in pages:
                position += 1
                yield _row(position, item)
