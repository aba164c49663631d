"""Fake Plex Media Server (formats.md B; fixtures in plex/).

- The token is required (`X-Plex-Token` header or query) everywhere but `/identity`;
  without it: 401 with an HTML body.
- JSON when `Accept` asks for it, else XML (`force_xml` answers XML regardless, like a
  proxy that drops `Accept`). XML is the fixture file where one exists, else generated from
  the JSON shape (`<Video>` for movies, `<Directory>` for shows and seasons).
- `/library/sections/{key}/all` pages with `X-Plex-Container-Start`/`-Size` (headers or
  query), sets `offset`, `size`, `totalSize` and the `X-Plex-Container-Start` /
  `X-Plex-Container-Total-Size` headers, omits `Guid` lists without `includeGuids=1`, and
  caps pages at `max_page_size` when set (servers may force their own page size).
- Section 1 (Movies) holds the 6 fixture movies, then `synthetic_movies` generated ones;
  section 2 (TV Shows) the 2 fixture shows, then `synthetic_shows`; section 3 is music.
  Synthetic items are built on demand from (`seed`, position), so 10,000 cost nothing until
  a page asks for them.
- `/library/metadata/{ratingKey}/children`: the fixture seasons of Breaking Bad (2001),
  generated seasons for other shows; unknown keys answer 404 with an HTML page.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # building only, never parsing

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeService, fixture_bytes, fixture_json, json_response

TOKEN = "plex-test-token-Zx9y8w7v"
MACHINE_ID = "0f3d9a6c2b7e41d58a9c3e6f1b2d4a7c8e9f0a1b"
SYNTHETIC_MOVIE_KEY = 100_000  # ratingKey of synthetic movie 0
SYNTHETIC_SHOW_KEY = 200_000
_UNAUTHORIZED = (
    b"<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"
)
_NOT_FOUND = (
    b"<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
)
_RESOLUTIONS = [
    ("4k", 3840, 2160, "hevc"),
    ("4k", 3840, 1600, "hevc"),
    ("1080", 1920, 1080, "h264"),
    ("1080", 1920, 800, "h264"),
    ("720", 1280, 720, "h264"),
    ("sd", 720, 480, "mpeg2video"),
]
_GENRES = [
    "Action",
    "Drama",
    "Comedy",
    "Thriller",
    "Science Fiction",
    "Horror",
    "Romance",
    "Animation",
    "Documentary",
    "Crime",
]
_WORDS = [
    "Night",
    "River",
    "Silent",
    "Last",
    "Empire",
    "Garden",
    "Storm",
    "Glass",
    "Iron",
    "Summer",
    "Shadow",
    "Northern",
    "Paper",
    "Golden",
    "Lost",
    "City",
    "Ghost",
    "Winter",
]


def synthetic_movie(seed: int, index: int) -> dict[str, Any]:
    """Synthetic movie `index` (0-based) in the JSON shape of section_1_all.json. Every 25th
    is another edition of the movie before it (same guid, `editionTitle`)."""
    rnd = random.Random(f"{seed}:movie:{index}")  # noqa: S311 - test data
    work = index - 1 if index % 25 == 24 else index
    wrnd = random.Random(f"{seed}:work:{work}")  # noqa: S311
    title = f"{wrnd.choice(_WORDS)} {wrnd.choice(_WORDS)} {work:05d}"
    year = wrnd.randint(1920, 2025)
    key = str(SYNTHETIC_MOVIE_KEY + index)
    media = []
    for m in range(2 if rnd.random() < 0.1 else 1):
        label, width, height, codec = rnd.choice(_RESOLUTIONS)
        media.append(
            {
                "id": (SYNTHETIC_MOVIE_KEY + index) * 10 + m,
                "duration": 6_000_000,
                "bitrate": 8000,
                "width": width,
                "height": height,
                "aspectRatio": round(width / height, 2),
                "audioChannels": 6,
                "audioCodec": rnd.choice(["aac", "ac3", "eac3", "dca", "truehd"]),
                "videoCodec": codec,
                "videoResolution": label,
                "container": rnd.choice(["mkv", "mp4"]),
                "videoFrameRate": "24p",
                "Part": [
                    {
                        "id": (SYNTHETIC_MOVIE_KEY + index) * 10 + m,
                        "key": f"/library/parts/{key}{m}/file.mkv",
                        "duration": 6_000_000,
                        "file": f"/data/movies/{title} ({year})/{title} - {label}.mkv",
                        "size": 4_000_000_000,
                        "container": "mkv",
                    }
                ],
            }
        )
    item: dict[str, Any] = {
        "ratingKey": key,
        "key": f"/library/metadata/{key}",
        "guid": f"plex://movie/synthetic{seed:04d}{work:08d}",
        "type": "movie",
        "title": title,
        "summary": "A synthetic film.",
        "audienceRating": round(wrnd.uniform(3, 9.5), 1),
        "year": year,
        "duration": 6_000_000,
        "originallyAvailableAt": f"{year}-0{wrnd.randint(1, 9)}-1{wrnd.randint(0, 9)}",
        "addedAt": 1716800000 + index,
        "updatedAt": 1716800000 + index,
        "Media": media,
        "Genre": [{"tag": g} for g in wrnd.sample(_GENRES, 2)],
        "Director": [{"tag": f"Director {work % 500}"}],
        "Role": [{"tag": f"Actor {(work * 7 + n) % 2000}"} for n in range(3)],
        "Guid": [{"id": f"imdb://tt{9_000_000 + work:07d}"}, {"id": f"tmdb://{9_000_000 + work}"}],
    }
    if work != index:
        item["editionTitle"] = "Director's Cut"
    return item


def synthetic_show(seed: int, index: int) -> dict[str, Any]:
    rnd = random.Random(f"{seed}:show:{index}")  # noqa: S311
    key = str(SYNTHETIC_SHOW_KEY + index)
    seasons = _synthetic_season_counts(seed, int(key))
    year = rnd.randint(1960, 2025)
    return {
        "ratingKey": key,
        "key": f"/library/metadata/{key}/children",
        "guid": f"plex://show/synthetic{seed:04d}{index:08d}",
        "type": "show",
        "title": f"{rnd.choice(_WORDS)} Street {index:04d}",
        "summary": "A synthetic series.",
        "studio": rnd.choice(["HBO", "BBC One", "AMC", "Netflix"]),
        "year": year,
        "originallyAvailableAt": f"{year}-01-15",
        "duration": 2_700_000,
        "leafCount": sum(seasons),
        "viewedLeafCount": 0,
        "childCount": len(seasons),
        "Genre": [{"tag": rnd.choice(_GENRES)}],
        "Guid": [{"id": f"tmdb://{8_000_000 + index}"}, {"id": f"tvdb://{700_000 + index}"}],
    }


def _synthetic_season_counts(seed: int, rating_key: int) -> list[int]:
    rnd = random.Random(f"{seed}:seasons:{rating_key}")  # noqa: S311
    return [rnd.randint(6, 13) for _ in range(rnd.randint(1, 6))]


def _children(show_key: str, title: str, counts: list[int]) -> dict[str, Any]:
    base = int(show_key) * 100
    return {
        "MediaContainer": {
            "size": len(counts),
            "allowSync": True,
            "key": show_key,
            "parentTitle": title,
            "title2": title,
            "viewGroup": "season",
            "Directory": [
                {
                    "leafCount": sum(counts),
                    "viewedLeafCount": 0,
                    "key": f"/library/metadata/{show_key}/allLeaves",
                    "title": "All episodes",
                }
            ],
            "Metadata": [
                {
                    "ratingKey": str(base + n),
                    "key": f"/library/metadata/{base + n}/children",
                    "parentRatingKey": show_key,
                    "type": "season",
                    "title": f"Season {n}",
                    "index": n,
                    "parentTitle": title,
                    "leafCount": count,
                    "viewedLeafCount": 0,
                }
                for n, count in enumerate(counts, start=1)
            ],
        }
    }


# ---------------------------------------------------------------------------- XML


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _item_tag(entry: dict[str, Any]) -> str:
    kind = entry.get("type")
    if kind in ("movie", "episode", "clip"):
        return "Video"
    if kind == "track":
        return "Track"
    return "Directory"


def _fill(element: Element, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, list):
            for child in value:
                if isinstance(child, dict):
                    tag = _item_tag(child) if name == "Metadata" else name
                    _fill(SubElement(element, tag), child)
        elif isinstance(value, dict):
            _fill(SubElement(element, name), value)
        elif value is not None:
            element.set(name, _xml_value(value))


def to_xml(body: dict[str, Any]) -> bytes:
    """A `{"MediaContainer": {...}}` JSON answer as Plex's XML."""
    root = Element("MediaContainer")
    _fill(root, body["MediaContainer"])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()


# ---------------------------------------------------------------------------- the fake


class PlexFake(FakeService):
    name = "plex"

    def reset(self) -> None:
        super().reset()
        self.token = TOKEN
        self.seed = 1
        self.synthetic_movies = 0
        self.synthetic_shows = 0
        self.max_page_size: int | None = None
        self.force_xml = False
        self._movies = fixture_json("plex/section_1_all.json")["MediaContainer"]
        self._shows = fixture_json("plex/section_2_all.json")["MediaContainer"]

    # ------------------------------------------------------------------ data

    def section_size(self, key: str) -> int:
        if key == "1":
            return len(self._movies["Metadata"]) + self.synthetic_movies
        if key == "2":
            return len(self._shows["Metadata"]) + self.synthetic_shows
        return 0

    def _entry(self, key: str, position: int) -> dict[str, Any]:
        fixtures = (self._movies if key == "1" else self._shows)["Metadata"]
        if position < len(fixtures):
            return copy.deepcopy(fixtures[position])
        index = position - len(fixtures)
        return synthetic_movie(self.seed, index) if key == "1" else synthetic_show(self.seed, index)

    # ------------------------------------------------------------------ plumbing

    def error_body(self, status: int, request: Request) -> tuple[bytes, str]:
        if status == 401:
            return _UNAUTHORIZED, "text/html"
        return f"<html><body><h1>{status}</h1></body></html>".encode(), "text/html"

    def _wants_json(self, request: Request) -> bool:
        return not self.force_xml and "json" in request.headers.get("Accept", "")

    def _answer(
        self,
        request: Request,
        body: dict[str, Any],
        xml: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if self._wants_json(request):
            return json_response(body, headers=headers)
        return Response(
            xml if xml is not None else to_xml(body),
            headers=headers or {},
            content_type="text/xml;charset=utf-8",
        )

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/identity":
            return self._answer(request, fixture_json("plex/identity.json"))
        token = request.headers.get("X-Plex-Token") or request.args.get("X-Plex-Token")
        if token != self.token:
            return Response(_UNAUTHORIZED, 401, content_type="text/html")
        if path == "/":
            return self._answer(
                request,
                {
                    "MediaContainer": {
                        "size": 1,
                        "friendlyName": "Fake Plex",
                        "machineIdentifier": MACHINE_ID,
                        "version": "1.41.3.9314-a0bfb8370",
                        "platform": "Linux",
                        "myPlex": True,
                        "Directory": [{"count": 1, "key": "library", "title": "library"}],
                    }
                },
            )
        if path in ("/library/sections", "/library/sections/all"):
            return self._answer(
                request, fixture_json("plex/sections.json"), fixture_bytes("plex/sections.xml")
            )
        match = re.fullmatch(r"/library/sections/([^/]+)/all", path)
        if match:
            return self._section(request, match.group(1))
        match = re.fullmatch(r"/library/metadata/(\d+)/children", path)
        if match:
            return self._children(request, match.group(1))
        return Response(_NOT_FOUND, 404, content_type="text/html")

    def _paging(self, request: Request) -> tuple[int, int | None]:
        def value(name: str) -> int | None:
            raw = request.headers.get(name) or request.args.get(name)
            return int(raw) if raw is not None and raw.isdigit() else None

        return value("X-Plex-Container-Start") or 0, value("X-Plex-Container-Size")

    def _section(self, request: Request, key: str) -> Response:
        if key not in ("1", "2", "3"):
            return Response(_NOT_FOUND, 404, content_type="text/html")
        total = self.section_size(key)
        start, size = self._paging(request)
        if size is None:
            size = total
        if self.max_page_size is not None:
            size = min(size, self.max_page_size)
        end = min(start + size, total)
        entries = [self._entry(key, n) for n in range(start, end)]
        if request.args.get("includeGuids") != "1":
            for entry in entries:
                entry.pop("Guid", None)
        base = {"1": self._movies, "2": self._shows}.get(key)
        container = {k: v for k, v in (base or {}).items() if k != "Metadata"}
        if key == "3":
            container = {
                "librarySectionID": 3,
                "librarySectionTitle": "Music",
                "viewGroup": "artist",
            }
        container.update({"size": len(entries), "totalSize": total, "offset": start})
        if entries:
            container["Metadata"] = entries
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Total-Size": str(total)}
        return self._answer(request, {"MediaContainer": container}, headers=headers)

    def _children(self, request: Request, rating_key: str) -> Response:
        if rating_key == "2001":
            return self._answer(request, fixture_json("plex/show_children.json"))
        number = int(rating_key)
        if rating_key == "2002":
            return self._answer(request, _children("2002", "Game of Thrones", [10, 10]))
        index = number - SYNTHETIC_SHOW_KEY
        if 0 <= index < self.synthetic_shows:
            show = synthetic_show(self.seed, index)
            counts = _synthetic_season_counts(self.seed, number)
            return self._answer(request, _children(rating_key, show["title"], counts))
        return Response(_NOT_FOUND, 404, content_type="text/html")
