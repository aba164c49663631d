"""Fake TMDB v3 (`/3/...`): search, details with append_to_response, configuration and
the key check, answering in TMDB's documented shapes (formats.md C; fixtures in tmdb/).

The catalogue holds the fixture titles (78 Blade Runner, 1396 Breaking Bad) plus a few more
built in the same shape, with the TMDB ids the Plex fixtures use (603, 129, 949, 348,
335984; TV 1399), so importer tests can enrich against it. `add_movie`/`add_tv` add more.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeService, fixture_bytes, fixture_json, json_response

API_KEY = "0123456789abcdef0123456789abcdef"  # v3 keys are 32 hex characters
# v4 read access tokens are JWTs; this one is made up (header.payload.signature).
BEARER_TOKEN = (
    "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJib3hzZXQtdGVzdCIsInNjb3BlcyI6WyJhcGlfcmVhZCJdfQ."
    "c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
)


def _movie(
    ident: int,
    title: str,
    release: str,
    runtime: int,
    directors: list[str],
    cast: list[str],
    imdb: str,
    genres: list[tuple[int, str]],
    *,
    original_title: str | None = None,
    vote: tuple[float, int] = (7.5, 1000),
) -> dict[str, Any]:
    """A `/movie/{id}?append_to_response=credits,videos,external_ids` answer."""
    return {
        "adult": False,
        "backdrop_path": f"/backdrop{ident}.jpg",
        "belongs_to_collection": None,
        "budget": 0,
        "genres": [{"id": gid, "name": name} for gid, name in genres],
        "homepage": "",
        "id": ident,
        "imdb_id": imdb,
        "origin_country": ["US"],
        "original_language": "en",
        "original_title": original_title or title,
        "overview": f"{title}: a test overview.",
        "popularity": 10.0,
        "poster_path": f"/poster{ident}.jpg",
        "production_companies": [],
        "production_countries": [],
        "release_date": release,
        "revenue": 0,
        "runtime": runtime,
        "spoken_languages": [],
        "status": "Released",
        "tagline": "",
        "title": title,
        "video": False,
        "vote_average": vote[0],
        "vote_count": vote[1],
        "credits": {
            "cast": [
                {
                    "id": ident * 100 + n,
                    "name": name,
                    "original_name": name,
                    "order": n,
                    "character": f"Role {n}",
                    "cast_id": n,
                    "credit_id": f"c{ident}{n}",
                    "known_for_department": "Acting",
                    "adult": False,
                    "gender": 0,
                    "popularity": 1.0,
                    "profile_path": None,
                }
                for n, name in enumerate(cast)
            ],
            "crew": [
                {
                    "id": ident * 1000 + n,
                    "name": name,
                    "original_name": name,
                    "job": "Director",
                    "department": "Directing",
                    "credit_id": f"d{ident}{n}",
                    "known_for_department": "Directing",
                    "adult": False,
                    "gender": 0,
                    "popularity": 1.0,
                    "profile_path": None,
                }
                for n, name in enumerate(directors)
            ],
        },
        "videos": {
            "results": [
                {
                    "iso_639_1": "en",
                    "iso_3166_1": "US",
                    "name": "Official Trailer",
                    "key": f"yt{ident}",
                    "site": "YouTube",
                    "size": 1080,
                    "type": "Trailer",
                    "official": True,
                    "published_at": "2015-01-01T00:00:00.000Z",
                    "id": f"v{ident}",
                }
            ]
        },
        "external_ids": {
            "imdb_id": imdb,
            "wikidata_id": None,
            "facebook_id": None,
            "instagram_id": None,
            "twitter_id": None,
        },
    }


def _tv(
    ident: int,
    name: str,
    first_air: str,
    creators: list[str],
    network: str,
    seasons: list[int],
    imdb: str,
    tvdb: int,
    genres: list[tuple[int, str]],
) -> dict[str, Any]:
    return {
        "adult": False,
        "backdrop_path": f"/tvbackdrop{ident}.jpg",
        "created_by": [
            {
                "id": ident * 10 + n,
                "credit_id": f"cb{ident}{n}",
                "name": c,
                "original_name": c,
                "gender": 0,
                "profile_path": None,
            }
            for n, c in enumerate(creators)
        ],
        "episode_run_time": [60],
        "first_air_date": first_air,
        "genres": [{"id": gid, "name": g} for gid, g in genres],
        "homepage": "",
        "id": ident,
        "in_production": False,
        "languages": ["en"],
        "last_air_date": None,
        "last_episode_to_air": None,
        "name": name,
        "next_episode_to_air": None,
        "networks": [{"id": 1, "logo_path": None, "name": network, "origin_country": "US"}],
        "number_of_episodes": sum(seasons),
        "number_of_seasons": len(seasons),
        "origin_country": ["US"],
        "original_language": "en",
        "original_name": name,
        "overview": f"{name}: a test overview.",
        "popularity": 10.0,
        "poster_path": f"/tvposter{ident}.jpg",
        "production_companies": [],
        "production_countries": [],
        "seasons": [
            {
                "air_date": None,
                "episode_count": count,
                "id": ident * 100 + n,
                "name": f"Season {n}",
                "overview": "",
                "poster_path": None,
                "season_number": n,
                "vote_average": 0.0,
            }
            for n, count in enumerate(seasons, start=1)
        ],
        "spoken_languages": [],
        "status": "Ended",
        "tagline": "",
        "type": "Scripted",
        "vote_average": 8.4,
        "vote_count": 20000,
        "external_ids": {
            "imdb_id": imdb,
            "tvdb_id": tvdb,
            "freebase_mid": None,
            "freebase_id": None,
            "tvrage_id": None,
            "wikidata_id": None,
            "facebook_id": None,
            "instagram_id": None,
            "twitter_id": None,
        },
    }


def default_catalogue() -> tuple[dict[int, dict], dict[int, dict]]:
    scifi, drama, action, crime = (
        (878, "Science Fiction"),
        (18, "Drama"),
        (28, "Action"),
        (80, "Crime"),
    )
    movies = {
        78: fixture_json("tmdb/movie_details.json"),
        603: _movie(
            603,
            "The Matrix",
            "1999-03-30",
            136,
            ["Lana Wachowski", "Lilly Wachowski"],
            ["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"],
            "tt0133093",
            [action, scifi],
            vote=(8.2, 25000),
        ),
        129: _movie(
            129,
            "Spirited Away",
            "2001-07-20",
            125,
            ["Hayao Miyazaki"],
            ["Rumi Hiiragi", "Miyu Irino"],
            "tt0245429",
            [(16, "Animation"), (14, "Fantasy")],
            original_title="千と千尋の神隠し",
            vote=(8.5, 16000),
        ),
        949: _movie(
            949,
            "Heat",
            "1995-12-15",
            170,
            ["Michael Mann"],
            ["Al Pacino", "Robert De Niro", "Val Kilmer"],
            "tt0113277",
            [action, crime, drama],
            vote=(7.9, 7000),
        ),
        348: _movie(
            348,
            "Alien",
            "1979-05-25",
            117,
            ["Ridley Scott"],
            ["Sigourney Weaver", "Tom Skerritt"],
            "tt0078748",
            [(27, "Horror"), scifi],
            vote=(8.2, 14000),
        ),
        335984: _movie(
            335984,
            "Blade Runner 2049",
            "2017-10-04",
            164,
            ["Denis Villeneuve"],
            ["Ryan Gosling", "Harrison Ford"],
            "tt1856101",
            [scifi, drama],
        ),
    }
    tv = {
        1396: fixture_json("tmdb/tv_details.json"),
        1399: _tv(
            1399,
            "Game of Thrones",
            "2011-04-17",
            ["David Benioff", "D. B. Weiss"],
            "HBO",
            [10, 10, 10, 10, 10, 10, 7, 6],
            "tt0944947",
            121361,
            [(10765, "Sci-Fi & Fantasy"), drama],
        ),
    }
    return movies, tv


def _search_result(body: dict[str, Any], media_type: str) -> dict[str, Any]:
    keys = (
        ("title", "original_title", "release_date", "video")
        if media_type == "movie"
        else ("name", "original_name", "first_air_date", "origin_country")
    )
    out = {k: body.get(k) for k in keys}
    out.update(
        {
            k: body.get(k)
            for k in (
                "adult",
                "backdrop_path",
                "id",
                "original_language",
                "overview",
                "popularity",
                "poster_path",
                "vote_average",
                "vote_count",
            )
        }
    )
    out["genre_ids"] = [g["id"] for g in body.get("genres", [])]
    return out


class TmdbFake(FakeService):
    name = "tmdb"
    prefix = "/3"

    def reset(self) -> None:
        super().reset()
        self.api_key = API_KEY
        self.bearer_token = BEARER_TOKEN
        self.movies, self.tv = default_catalogue()

    def add_movie(self, details: dict[str, Any]) -> None:
        self.movies[int(details["id"])] = details

    def add_tv(self, details: dict[str, Any]) -> None:
        self.tv[int(details["id"])] = details

    def error_body(self, status: int, request: Request) -> tuple[bytes, str]:
        name = {401: "error_401", 404: "error_404", 429: "error_429"}.get(status)
        if name:
            return fixture_bytes(f"tmdb/{name}.json"), "application/json;charset=utf-8"
        body = {
            "success": False,
            "status_code": 11,
            "status_message": "Internal error: Something went wrong, contact TMDb.",
        }
        return json_response(body).get_data(), "application/json;charset=utf-8"

    def _authorised(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if auth:
            return auth == f"Bearer {self.bearer_token}"
        return request.args.get("api_key") == self.api_key

    def _error(self, status: int, request: Request) -> Response:
        body, content_type = self.error_body(status, request)
        return Response(body, status=status, content_type=content_type)

    def handle(self, request: Request) -> Response:
        path = request.path
        if not path.startswith("/3/"):
            return self._error(404, request)
        if not self._authorised(request):
            return self._error(401, request)
        route = path[len("/3") :]
        if route == "/configuration":
            return json_response(fixture_json("tmdb/configuration.json"))
        if route == "/authentication":
            return json_response({"success": True, "status_code": 1, "status_message": "Success."})
        if route in ("/search/movie", "/search/tv"):
            return self._search(request, route.rsplit("/", 1)[1])
        match = re.fullmatch(r"/(movie|tv)/(\d+)", route)
        if match:
            catalogue = self.movies if match.group(1) == "movie" else self.tv
            body = catalogue.get(int(match.group(2)))
            if body is None:
                return self._error(404, request)
            body = copy.deepcopy(body)
            appended = set(filter(None, request.args.get("append_to_response", "").split(",")))
            for key in ("credits", "videos", "external_ids"):
                if key not in appended:
                    body.pop(key, None)
            return json_response(body)
        return self._error(404, request)

    def _search(self, request: Request, media_type: str) -> Response:
        query = " ".join(request.args.get("query", "").lower().split())
        if not query:
            return json_response({"errors": ["query must be provided"]}, status=422)
        if media_type == "movie" and query == "blade runner" and not request.args.get("year"):
            return json_response(fixture_json("tmdb/search_movie.json"))
        if media_type == "tv" and query == "breaking bad":
            return json_response(fixture_json("tmdb/search_tv.json"))
        catalogue = self.movies if media_type == "movie" else self.tv
        year = (
            request.args.get("year")
            or request.args.get("primary_release_year")
            or (request.args.get("first_air_date_year"))
        )
        results = []
        for body in catalogue.values():
            title = body.get("title" if media_type == "movie" else "name") or ""
            original = body.get("original_title" if media_type == "movie" else "original_name")
            date = body.get("release_date" if media_type == "movie" else "first_air_date") or ""
            if query not in title.lower() and query not in (original or "").lower():
                continue
            if year and not date.startswith(str(year)):
                continue
            results.append(_search_result(body, media_type))
        results.sort(key=lambda r: -(r.get("popularity") or 0))
        return json_response(
            {
                "page": 1,
                "results": results[:20],
                "total_pages": 1 if results else 0,
                "total_results": len(results),
            }
        )
