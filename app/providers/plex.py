"""Plex Media Server: library sections and their items, page by page (formats.md B).

Asks for JSON but reads XML too (servers and proxies that ignore `Accept` exist); XML is
parsed with defusedxml, so entity tricks are refused. The token travels only in the
`X-Plex-Token` header, never in a URL.

`iter_items()` is a generator: one page in memory at a time, whatever the section's size.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from app.providers.http import (
    SLOW_TIMEOUT,
    HttpOptions,
    ProviderError,
    ProviderHTTP,
    ProviderNotConfigured,
    ProviderNotFound,
    ProviderResponse,
    probe,
    setting,
)

log = logging.getLogger("boxset.providers")

PROVIDER = "Plex"
IMPORTABLE = {"movie": 1, "show": 2}  # section type → Plex item type number
DEFAULT_PAGE_SIZE = 100
MAX_PAGES = 100_000  # a server that never ends its paging is cut off here
_LIST_TAGS = ("Video", "Directory", "Metadata", "Track", "Photo", "Episode")
_EDITION_TOKEN = re.compile(r"\{edition-([^}]+)\}", re.IGNORECASE)
_IMDB = re.compile(r"^tt\d{5,12}$")


class UnsupportedSection(ValueError):
    """A section Boxset does not import (music, photos) or that does not exist."""


@dataclass
class PlexItem:
    """One Plex movie or show, ready for the importer.

    `fields` are Boxset item fields (MediaPostSchema accepts them as they are); `variants`
    are MediaVariant fields, one per Plex `Media` (version); `seasons` (shows) are
    `[{season_number, expected_episodes, available_episodes}]`. Plex editions of one work
    arrive as separate items with the same `guid`: group by it (then by `tmdb_id`).
    """

    rating_key: str
    section_key: str
    plex_type: str  # movie | show | whatever else the server sent
    guid: str | None
    fields: dict[str, Any]
    variants: list[dict[str, Any]] = field(default_factory=list)
    seasons: list[dict[str, Any]] = field(default_factory=list)
    edition_title: str | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    tvdb_id: int | None = None
    view_count: int | None = None  # movies: times watched; shows: episodes watched
    skip_reason: str | None = None

    @property
    def title(self) -> str | None:
        return self.fields.get("title")

    @property
    def year(self) -> int | None:
        return self.fields.get("year")

    @property
    def media_type(self) -> str:
        return self.fields.get("media_type", "movie")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PlexClient:
    """Reads a Plex Media Server at `base_url` (e.g. `http://plex.lan:32400`) with the owner's
    token. `client_identifier` should be stable per Boxset instance (Plex lists it under
    authorised devices)."""

    def __init__(
        self,
        base_url: str | None,
        token: str | None,
        *,
        client_identifier: str = "boxset",
        product: str = "Boxset",
        version: str = "1",
        options: HttpOptions | None = None,
    ) -> None:
        self.token = (token or "").strip()
        self.http = ProviderHTTP(
            PROVIDER,
            base_url or "",
            default_timeout=SLOW_TIMEOUT,
            options=options,
            headers={
                "Accept": "application/json",
                "X-Plex-Client-Identifier": client_identifier,
                "X-Plex-Product": product,
                "X-Plex-Version": version,
            },
            auth_headers={"X-Plex-Token": self.token} if self.token else {},
        )

    @classmethod
    def from_settings(
        cls, settings: Any, *, options: HttpOptions | None = None, **kwargs: Any
    ) -> PlexClient:
        """From the effective settings: a PlexSettings (`api_url`, `api_token`) or the flat
        integration keys (`plex_api_url`, `plex_api_token`). `kwargs`: client_identifier,
        version."""
        return cls(
            setting(settings, "plex_api_url", "api_url"),
            setting(settings, "plex_api_token", "api_token"),
            options=options,
            **kwargs,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PlexClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ calls

    def _container(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        token: bool = True,
    ) -> tuple[dict[str, Any], ProviderResponse]:
        if token and not self.token:
            raise ProviderNotConfigured(PROVIDER, "has no token configured")
        response = self.http.request("GET", path, params=params, headers=headers)
        return read_container(response), response

    def identity(self) -> dict[str, Any]:
        """`/identity` (no token needed): is this a Plex server, and which one."""
        container, _ = self._container("/identity", token=False)
        return {
            "machine_identifier": container.get("machineIdentifier"),
            "version": container.get("version"),
            "claimed": _bool(container.get("claimed")),
        }

    def sections(self) -> list[dict[str, Any]]:
        """Every library section: `[{key, title, type}]` (`type` movie, show, artist, photo;
        only movie and show sections can be imported)."""
        container, _ = self._container("/library/sections")
        out = []
        for entry in _entries(container, "Directory"):
            key = _str(entry.get("key"))
            if key:
                out.append(
                    {
                        "key": key,
                        "title": _str(entry.get("title")) or key,
                        "type": _str(entry.get("type")) or "unknown",
                    }
                )
        return out

    def _section_type(self, section_key: str, section_type: str | None) -> str:
        if section_type is None:
            found = {s["key"]: s for s in self.sections()}.get(str(section_key))
            if found is None:
                raise UnsupportedSection(f"Plex has no library section {section_key}")
            section_type = found["type"]
        if section_type not in IMPORTABLE:
            raise UnsupportedSection(
                f"Plex section {section_key} holds {section_type} items; only movie and show "
                "sections can be imported"
            )
        return section_type

    def count_items(self, section_key: str, section_type: str | None = None) -> int | None:
        """How many items a section holds (a size-0 page), for progress; None when the
        server does not say."""
        kind = self._section_type(str(section_key), section_type)
        container, response = self._container(
            f"/library/sections/{section_key}/all",
            {"type": IMPORTABLE[kind]},
            {"X-Plex-Container-Start": "0", "X-Plex-Container-Size": "0"},
        )
        total = _int(container.get("totalSize"))
        if total is None:
            total = _int(response.headers.get("x-plex-container-total-size"))
        return total

    def iter_items(
        self,
        section_key: str,
        *,
        section_type: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        with_seasons: bool = True,
        include_specials: bool = False,
    ) -> Iterator[PlexItem]:
        """Every item of a movie or show section, one page at a time (`page_size` asked for,
        whatever the server chooses to send). Shows come with their seasons (one
        `/children` call each) unless `with_seasons=False`. `section_type` (movie|show)
        saves a `/library/sections` call."""
        section_key = str(section_key)
        kind = self._section_type(section_key, section_type)
        page_size = max(1, int(page_size))
        start = 0
        for _page in range(MAX_PAGES):
            container, response = self._container(
                f"/library/sections/{section_key}/all",
                {"type": IMPORTABLE[kind], "includeGuids": 1},
                {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(page_size)},
            )
            entries = _entries(container, "Metadata")
            offset = _int(container.get("offset"))
            if offset is not None and offset != start:
                raise ProviderError(
                    PROVIDER,
                    f"ignored the paging request (asked for {start}, got {offset})",
                    response.status,
                    kind="invalid_response",
                )
            total = _int(container.get("totalSize"))
            if total is None:
                total = _int(response.headers.get("x-plex-container-total-size"))
            for entry in entries:
                item = normalise_item(entry, section_key, expected_type=kind)
                if with_seasons and item.plex_type == "show" and not item.skip_reason:
                    try:
                        item.seasons = self.seasons(
                            item.rating_key, include_specials=include_specials
                        )
                    except ProviderNotFound:  # the show went away between two calls
                        log.warning("Plex show %s has no seasons to read", item.rating_key)
                yield item
            count = len(entries)
            start += count
            if count == 0 or (total is not None and start >= total):
                return
            if total is None and count < page_size:
                return
        log.warning("Plex section %s: stopped after %d pages", section_key, MAX_PAGES)

    def seasons(self, rating_key: str, *, include_specials: bool = False) -> list[dict[str, Any]]:
        """A show's seasons from `/library/metadata/{ratingKey}/children`:
        `[{season_number, expected_episodes: None, available_episodes}]` (Plex knows the
        episodes present, not how many aired; TMDB fills `expected_episodes`)."""
        container, _ = self._container(f"/library/metadata/{rating_key}/children")
        return parse_seasons(container, include_specials=include_specials)

    def test(self) -> dict[str, Any]:
        """For the integration Test button: `{ok, authenticated, status, detail, sections}`."""
        found: list[dict[str, Any]] = []

        def call() -> list[dict[str, Any]]:
            found.extend(self.sections())
            return found

        def describe(sections: list[dict[str, Any]]) -> str:
            usable = [s for s in sections if s["type"] in IMPORTABLE]
            return (
                f"Plex answered: {len(sections)} library section(s), {len(usable)} of them "
                "movie or TV sections Boxset can import."
            )

        result = probe(call, describe)
        result["sections"] = found
        return result


# ---------------------------------------------------------------------------- parsing


def read_container(response: ProviderResponse) -> dict[str, Any]:
    """The `MediaContainer` of a JSON or XML answer, as the JSON shape (XML values stay
    strings; the normalisers accept both)."""
    if response.looks_like_xml():
        root = response.xml(forbid_dtd=True)
        if root.tag != "MediaContainer":
            raise ProviderError(
                PROVIDER,
                "sent XML that is not a MediaContainer",
                response.status,
                kind="invalid_response",
            )
        return xml_container(root)
    body = response.json()
    container = body.get("MediaContainer") if isinstance(body, dict) else None
    if not isinstance(container, dict):
        raise ProviderError(
            PROVIDER,
            "sent JSON without a MediaContainer",
            response.status,
            kind="invalid_response",
        )
    return container


def _element(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(element.attrib)
    for child in element:
        out.setdefault(child.tag, []).append(_element(child))
    return out


def xml_container(root: Any) -> dict[str, Any]:
    """An XML MediaContainer in the JSON shape: items (`<Video>`, `<Directory>` with a
    `ratingKey`, …) under `Metadata`, other children under their tag."""
    out: dict[str, Any] = dict(root.attrib)
    for child in root:
        converted = _element(child)
        tag = child.tag
        if tag in _LIST_TAGS and "ratingKey" in child.attrib:
            tag = "Metadata"
        out.setdefault(tag, []).append(converted)
    return out


def _entries(container: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = container.get(name)
    if isinstance(value, dict):
        return [value]
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value)))
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("1", 1, "true"):
        return True
    if value in ("0", 0, "false"):
        return False
    return None


def _score(value: Any) -> float | None:
    number = _float(value)
    if number is None or not 0 <= number <= 10:
        return None
    return round(number, 1)


def _tags(entry: Mapping[str, Any], name: str) -> list[str]:
    out: list[str] = []
    for tag in _entries(entry, name):
        text = _str(tag.get("tag"))
        if text and text not in out:
            out.append(text[:300])
    return out


def parse_guids(entry: Mapping[str, Any]) -> dict[str, Any]:
    """`{tmdb_id, imdb_id, tvdb_id}` from the `Guid` list (new agents: `tmdb://603`,
    `imdb://tt0133093`, `tvdb://81189`) or a legacy agent's `guid`
    (`com.plexapp.agents.imdb://tt0078748?lang=en`, `…themoviedb://348`, `…thetvdb://81189`)."""
    ids: dict[str, Any] = {"tmdb_id": None, "imdb_id": None, "tvdb_id": None}
    values = [_str(g.get("id")) for g in _entries(entry, "Guid")]
    legacy = _str(entry.get("guid"))
    if legacy and legacy.startswith("com.plexapp.agents."):
        values.append(legacy[len("com.plexapp.agents.") :])
    for value in values:
        if not value or "://" not in value:
            continue
        scheme, _, rest = value.partition("://")
        ident = rest.split("?", 1)[0].strip("/")
        if scheme in ("tmdb", "themoviedb") and ident.isdigit() and not ids["tmdb_id"]:
            ids["tmdb_id"] = int(ident)
        elif scheme == "imdb" and _IMDB.match(ident) and not ids["imdb_id"]:
            ids["imdb_id"] = ident
        elif scheme in ("tvdb", "thetvdb") and ident.isdigit() and not ids["tvdb_id"]:
            ids["tvdb_id"] = int(ident)
    return ids


def resolution_from(
    video_resolution: Any = None, width: Any = None, height: Any = None
) -> str | None:
    """Boxset's resolution (sd, 720p, 1080p, 4k). Plex's own `videoResolution` first (it
    accounts for cropped widescreen: 1920x800 is 1080p); else the frame size — by height,
    sd < 700 ≤ 720p < 1000 ≤ 1080p < 2000 ≤ 4k, or by width (1200/1700/3200) when that is
    higher, so a 3840x1600 scope picture is still 4k."""
    label = (_str(video_resolution) or "").lower().rstrip("p")
    if label in ("4k", "2160", "uhd", "8k", "4320"):
        return "4k"
    if label in ("1080", "1080i"):
        return "1080p"
    if label == "720":
        return "720p"
    if label in ("sd", "480", "576", "360", "240"):
        return "sd"
    h, w = _int(height), _int(width)
    ranks = []
    if h and h > 0:
        ranks.append(0 if h < 700 else 1 if h < 1000 else 2 if h < 2000 else 3)
    if w and w > 0:
        ranks.append(0 if w < 1200 else 1 if w < 1700 else 2 if w < 3200 else 3)
    if not ranks:
        return None
    return ("sd", "720p", "1080p", "4k")[max(ranks)]


def edition_from_file(path: Any) -> str | None:
    """The `{edition-Director's Cut}` token of Plex's file naming."""
    match = _EDITION_TOKEN.search(_str(path) or "")
    return match.group(1).strip()[:200] if match else None


def _variants(entry: Mapping[str, Any], rating_key: str, edition: str | None) -> list[dict]:
    out = []
    for media in _entries(entry, "Media"):
        parts = _entries(media, "Part")
        media_id = _str(media.get("id")) or str(len(out) + 1)
        file_edition = next(
            (e for e in (edition_from_file(p.get("file")) for p in parts) if e), None
        )
        out.append(
            {
                "edition": (edition or file_edition),
                "format": "Digital",
                "resolution": resolution_from(
                    media.get("videoResolution"), media.get("width"), media.get("height")
                ),
                "width": _int(media.get("width")),
                "height": _int(media.get("height")),
                "container": (_str(media.get("container")) or "")[:32] or None,
                "video_codec": (_str(media.get("videoCodec")) or "")[:32] or None,
                "audio_codec": (_str(media.get("audioCodec")) or "")[:32] or None,
                "source_provider": "plex",
                "source_key": f"{rating_key}:{media_id}"[:200],
            }
        )
    return out


def _date(value: Any) -> tuple[str | None, int | None]:
    text = _str(value)
    if text and re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return text, int(text[:4])
    return None, None


def normalise_item(
    entry: Mapping[str, Any], section_key: str, *, expected_type: str | None = None
) -> PlexItem:
    """A `/library/sections/{key}/all` entry (JSON or converted XML) as a PlexItem
    (formats.md B.8)."""
    rating_key = _str(entry.get("ratingKey")) or ""
    plex_type = _str(entry.get("type")) or (expected_type or "movie")
    show = plex_type == "show"
    ids = parse_guids(entry)
    release_date, date_year = _date(entry.get("originallyAvailableAt"))
    year = _int(entry.get("year")) or date_year
    if year is not None and not 1888 <= year <= 2100:
        year = None
    duration = _int(entry.get("duration"))
    if not duration:
        duration = next((_int(m.get("duration")) for m in _entries(entry, "Media")), None)
    runtime = round(duration / 60000) if duration and duration > 0 else None
    title = (_str(entry.get("title")) or "")[:500] or None
    original = (_str(entry.get("originalTitle")) or "")[:500] or None
    rating = _score(entry.get("audienceRating"))
    if rating is None:
        rating = _score(entry.get("rating"))
    fields: dict[str, Any] = {
        "title": title,
        "original_title": original,
        "media_type": "tv_series" if show else "movie",
        "format": "Digital",
        "year": year,
        "release_date": release_date,
        "runtime": runtime or None,
        "overview": (_str(entry.get("summary")) or "")[:20000] or None,
        "genres": _tags(entry, "Genre"),
        "directors": _tags(entry, "Director"),
        "cast": _tags(entry, "Role"),
        "rating": rating,
        "user_rating": _score(entry.get("userRating")),
        "tmdb_id": ids["tmdb_id"],
        "tmdb_media_type": ("tv" if show else "movie") if ids["tmdb_id"] else None,
        "imdb_id": ids["imdb_id"],
    }
    if show:
        fields["network"] = (_str(entry.get("studio")) or "")[:200] or None
    edition = (_str(entry.get("editionTitle")) or "")[:200] or None
    skip = None
    if not title:
        skip = "Plex item without a title"
    elif plex_type not in IMPORTABLE or (expected_type and plex_type != expected_type):
        skip = f"Plex item type {plex_type} is not imported"
    variants = [] if show else _variants(entry, rating_key, edition)
    if not edition:
        edition = next((v["edition"] for v in variants if v["edition"]), None)
    return PlexItem(
        rating_key=rating_key,
        section_key=str(section_key),
        plex_type=plex_type,
        guid=_str(entry.get("guid")),
        fields=fields,
        variants=variants,
        edition_title=edition,
        tmdb_id=ids["tmdb_id"],
        imdb_id=ids["imdb_id"],
        tvdb_id=ids["tvdb_id"],
        view_count=_int(entry.get("viewedLeafCount" if show else "viewCount")),
        skip_reason=skip,
    )


def parse_seasons(
    container: Mapping[str, Any], *, include_specials: bool = False
) -> list[dict[str, Any]]:
    """Seasons from a `/children` container: entries of type season, by `index`."""
    out: dict[int, dict[str, Any]] = {}
    for entry in _entries(container, "Metadata"):
        if _str(entry.get("type")) != "season":
            continue
        number = _int(entry.get("index"))
        if number is None or number < 0 or (number == 0 and not include_specials):
            continue
        present = _int(entry.get("leafCount"))
        out[number] = {
            "season_number": number,
            "expected_episodes": None,
            "available_episodes": present if present is not None and present >= 0 else None,
        }
    return [out[n] for n in sorted(out)]
