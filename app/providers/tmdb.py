"""TMDB v3: search and details for movies and TV, normalised in one place (formats.md C).

`search()` gives the api.md search result shape; `details()` gives Boxset item fields (plus
`seasons` for TV) that MediaPostSchema accepts as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.providers.http import (
    DEFAULT_TIMEOUT,
    HttpOptions,
    ProviderHTTP,
    ProviderNotConfigured,
    ProviderNotFound,
    probe,
    setting,
)
from app.services.covers import TMDB_IMAGE_BASE

PROVIDER = "TMDB"
DEFAULT_URL = "https://api.themoviedb.org/3"
POSTER_BASE = TMDB_IMAGE_BASE  # https://image.tmdb.org/t/p/w500, as stored covers use
BACKDROP_BASE = TMDB_IMAGE_BASE.rsplit("/", 1)[0] + "/w1280"
MEDIA_TYPES = ("movie", "tv")
CAST_LIMIT = 20

_JWT = re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$")
_IMDB = re.compile(r"^tt\d{5,12}$")
_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}$")


def is_bearer_token(key: str) -> bool:
    """A v4 API Read Access Token is a JWT; a v3 API key is 32 hex characters."""
    return bool(_JWT.match(key.strip()))


class TmdbClient:
    """Search and details against TMDB (or a mirror at `base_url`).

    `api_key` is a v3 API key (sent as the `api_key` query parameter) or a v4 read access
    token (a JWT, sent as `Authorization: Bearer`). Share one client between the threads of
    a job and pass `HttpOptions(throttle=..., cache=...)`.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        language: str = "en-US",
        options: HttpOptions | None = None,
    ) -> None:
        self.api_key = (api_key or "").strip()
        self.language = language
        auth_headers: dict[str, str] = {}
        auth_params: dict[str, str] = {}
        if self.api_key and is_bearer_token(self.api_key):
            auth_headers["Authorization"] = f"Bearer {self.api_key}"
        elif self.api_key:
            auth_params["api_key"] = self.api_key
        self.http = ProviderHTTP(
            PROVIDER,
            base_url or DEFAULT_URL,
            default_timeout=DEFAULT_TIMEOUT,
            options=options,
            headers={"Accept": "application/json"},
            auth_headers=auth_headers,
            auth_params=auth_params,
        )

    @classmethod
    def from_settings(cls, settings: Any, *, options: HttpOptions | None = None) -> TmdbClient:
        """From the effective settings: a TmdbSettings (`api_url`, `api_key`) or the flat
        integration keys (`tmdb_api_url`, `tmdb_api_key`)."""
        return cls(
            setting(settings, "tmdb_api_key", "api_key"),
            setting(settings, "tmdb_api_url", "api_url"),
            options=options,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TmdbClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        if not self.api_key:
            raise ProviderNotConfigured(PROVIDER, "has no API key configured")
        return self.http.get_json(path, params={"language": self.language, **(params or {})})

    # ------------------------------------------------------------------------ search

    def search(
        self, title: str, year: int | None = None, media_type: str = "movie", *, limit: int = 20
    ) -> list[dict[str, Any]]:
        """The first page of matches, best first (TMDB's order):
        `[{tmdb_id, tmdb_media_type, title, original_title, year, overview, poster_url,
        rating}]`. `year` narrows movies by any release in that year and shows by their
        first air date."""
        media_type = _media_type(media_type)
        query = " ".join((title or "").split())
        if not query:
            return []
        params: dict[str, Any] = {"query": query, "include_adult": "false", "page": 1}
        if year:
            params["year" if media_type == "movie" else "first_air_date_year"] = int(year)
        body = self._get(f"/search/{media_type}", params)
        results = body.get("results") if isinstance(body, dict) else None
        out = [
            normalise_search_result(r, media_type)
            for r in (results or [])
            if isinstance(r, dict) and r.get("id")
        ]
        return out[:limit]

    # ------------------------------------------------------------------------ details

    def details(
        self, tmdb_id: int | str, media_type: str = "movie", *, include_specials: bool = False
    ) -> dict[str, Any]:
        """Boxset item fields for one title (see `normalise_details`). Raises
        ProviderNotFound (API: 404) for an unknown id."""
        media_type = _media_type(media_type)
        try:
            ident = int(tmdb_id)
        except (TypeError, ValueError):
            raise ValueError("a TMDB id is a positive whole number") from None
        if ident <= 0:
            raise ValueError("a TMDB id is a positive whole number")
        try:
            body = self._get(
                f"/{media_type}/{ident}", {"append_to_response": "credits,videos,external_ids"}
            )
        except ProviderNotFound:
            kind = "movie" if media_type == "movie" else "TV show"
            raise ProviderNotFound(PROVIDER, f"has no {kind} with id {ident}", 404) from None
        return normalise_details(body, media_type, include_specials=include_specials)

    # ------------------------------------------------------------------------ test

    def configuration(self) -> dict[str, Any]:
        """`/configuration`: image base URLs and sizes; also proves the key works."""
        return self._get("/configuration")

    def test(self) -> dict[str, Any]:
        """For the integration Test button: `{ok, authenticated, status, detail}`."""
        return probe(
            self.configuration,
            lambda _body: (
                "TMDB accepted the key (v4 token)."
                if is_bearer_token(self.api_key)
                else "TMDB accepted the key."
            ),
        )


# ---------------------------------------------------------------------------- normalising


def _media_type(value: str) -> str:
    if value not in MEDIA_TYPES:
        raise ValueError("media_type must be movie or tv")
    return value


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _date(value: Any) -> tuple[str | None, int | None]:
    """(YYYY-MM-DD, year) from a TMDB date; "" and junk give (None, None)."""
    if isinstance(value, str):
        match = _DATE.match(value.strip())
        if match:
            year = int(match.group(1))
            if 1888 <= year <= 2100:
                return value.strip(), year
    return None, None


def _rating(body: Mapping[str, Any]) -> float | None:
    """vote_average, unless nobody voted (then TMDB's 0.0 means "no rating")."""
    average, count = body.get("vote_average"), body.get("vote_count")
    if not isinstance(average, (int, float)) or not count:
        return None
    return round(min(max(float(average), 0.0), 10.0), 1)


def image_url(path: Any, base: str = POSTER_BASE) -> str | None:
    if isinstance(path, str) and path.startswith("/"):
        return f"{base}{path}"
    return None


def _imdb(value: Any) -> str | None:
    return value if isinstance(value, str) and _IMDB.match(value) else None


def _names(entries: Any, limit: int | None = None) -> list[str]:
    names: list[str] = []
    for entry in entries or []:
        name = _text(entry.get("name")) if isinstance(entry, dict) else None
        if name and name not in names:
            names.append(name)
        if limit is not None and len(names) >= limit:
            break
    return names


def normalise_search_result(result: Mapping[str, Any], media_type: str) -> dict[str, Any]:
    movie = media_type == "movie"
    _release, year = _date(result.get("release_date" if movie else "first_air_date"))
    return {
        "tmdb_id": int(result["id"]),
        "tmdb_media_type": media_type,
        "title": _text(result.get("title" if movie else "name")),
        "original_title": _text(result.get("original_title" if movie else "original_name")),
        "year": year,
        "overview": _text(result.get("overview")),
        "poster_url": image_url(result.get("poster_path")),
        "rating": _rating(result),
    }


def trailer_url(videos: Any) -> str | None:
    """The YouTube trailer: official ones first, then the newest (formats.md C.4)."""
    results = videos.get("results") if isinstance(videos, dict) else None
    trailers = [
        v
        for v in results or []
        if isinstance(v, dict)
        and v.get("site") == "YouTube"
        and v.get("type") == "Trailer"
        and isinstance(v.get("key"), str)
        and v["key"]
    ]
    if not trailers:
        return None
    trailers.sort(key=lambda v: (bool(v.get("official")), str(v.get("published_at") or "")))
    return f"https://www.youtube.com/watch?v={trailers[-1]['key']}"


def _cast(credits: Any, limit: int) -> list[str]:
    cast = credits.get("cast") if isinstance(credits, dict) else None
    ordered = sorted(
        (c for c in cast or [] if isinstance(c, dict)),
        key=lambda c: c.get("order") if isinstance(c.get("order"), int) else 10**6,
    )
    return _names(ordered, limit)


def _directors(credits: Any) -> list[str]:
    crew = credits.get("crew") if isinstance(credits, dict) else None
    return _names(c for c in crew or [] if isinstance(c, dict) and c.get("job") == "Director")


def _tv_runtime(body: Mapping[str, Any]) -> int | None:
    runtimes = body.get("episode_run_time")
    if isinstance(runtimes, list) and runtimes and isinstance(runtimes[0], int):
        return runtimes[0] or None
    last = body.get("last_episode_to_air")
    if isinstance(last, dict) and isinstance(last.get("runtime"), int):
        return last["runtime"] or None
    return None


def normalise_details(
    body: Mapping[str, Any],
    media_type: str,
    *,
    include_specials: bool = False,
    cast_limit: int = CAST_LIMIT,
) -> dict[str, Any]:
    """Boxset item fields from a `/movie/{id}` or `/tv/{id}` answer with credits, videos and
    external_ids appended (formats.md C.7). TV adds `network` and `seasons`
    (`[{season_number, expected_episodes}]`, season 0 "Specials" only on request)."""
    movie = media_type == "movie"
    release_date, year = _date(body.get("release_date" if movie else "first_air_date"))
    external = body.get("external_ids") if isinstance(body.get("external_ids"), dict) else {}
    credits = body.get("credits")
    item: dict[str, Any] = {
        "title": _text(body.get("title" if movie else "name")),
        "original_title": _text(body.get("original_title" if movie else "original_name")),
        "media_type": "movie" if movie else "tv_series",
        "year": year,
        "release_date": release_date,
        "runtime": (body.get("runtime") or None) if movie else _tv_runtime(body),
        "overview": _text(body.get("overview")),
        "genres": _names(body.get("genres")),
        "directors": _directors(credits) if movie else _names(body.get("created_by")),
        "cast": _cast(credits, cast_limit),
        "rating": _rating(body),
        "tmdb_id": int(body["id"]),
        "tmdb_media_type": media_type,
        "imdb_id": _imdb(body.get("imdb_id")) or _imdb(external.get("imdb_id")),
        "cover_url": image_url(body.get("poster_path")),
        "backdrop_url": image_url(body.get("backdrop_path"), BACKDROP_BASE),
        "trailer_url": trailer_url(body.get("videos")),
    }
    if not isinstance(item["runtime"], int):
        item["runtime"] = None
    if not movie:
        networks = body.get("networks")
        item["network"] = _names(networks, 1)[0] if _names(networks, 1) else None
        item["seasons"] = tv_seasons(body.get("seasons"), include_specials=include_specials)
    return item


def tv_seasons(seasons: Any, *, include_specials: bool = False) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for season in seasons or []:
        if not isinstance(season, dict) or not isinstance(season.get("season_number"), int):
            continue
        number = season["season_number"]
        if number < 0 or (number == 0 and not include_specials):
            continue
        count = season.get("episode_count")
        out[number] = {
            "season_number": number,
            "expected_episodes": count if isinstance(count, int) and count >= 0 else None,
        }
    return [out[n] for n in sorted(out)]
