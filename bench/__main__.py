"""`make bench`: seed a realistic catalog and time the browsing API.

Seeds 100,000 items over 2 spaces and 4 libraries (about 40 genres, 5,000 directors, 20,000
actors, years 1920-2025, formats, ratings, variants and seasons) into a throwaway PostgreSQL
database (and, with `--sqlite`, a SQLite file), then measures p50/p95 of each browsing request
through the WSGI app with a signed-in client. On PostgreSQL it then starts gunicorn as
docker-compose.yml runs it and browses with many concurrent clients (bench/concurrency.py).
Prints one JSON report; the exit status is 1 when a target is missed.

    python -m bench [--items 100000] [--requests 100] [--sqlite] [--keep]
                    [--concurrency-clients 50] [--concurrency-seconds 60] [--no-concurrency]
                    [--concurrency-warmup 5] [--concurrency-think-ms 1000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import secrets
import signal
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-1"
TARGET_MS = {"postgresql": 25.0, "sqlite": 100.0}
# A client of the concurrency run is a person browsing: between an answer and their next
# request (next page of posters, a filter, an item) they pause, 1 s on average (exponential).
# People look at a page of 60 posters for longer than that; 1 s is the demanding end.
THINK_MS = 1000.0

GENRES = [
    "Action", "Adventure", "Animation", "Biography", "Comedy", "Crime", "Documentary", "Drama",
    "Family", "Fantasy", "Film-Noir", "History", "Horror", "Music", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Sport", "Thriller", "War", "Western", "Anime", "Kids", "Reality",
    "Talk-Show", "Game-Show", "News", "Short", "Superhero", "Martial Arts", "Disaster", "Heist",
    "Spy", "Slasher", "Mockumentary", "Satire", "Coming-of-Age", "Road Movie", "Cult",
]  # fmt: skip
WORDS = [
    "night",
    "day",
    "last",
    "first",
    "dark",
    "light",
    "city",
    "river",
    "star",
    "blood",
    "silent",
    "lost",
    "secret",
    "golden",
    "broken",
    "summer",
    "winter",
    "return",
    "rise",
    "fall",
    "king",
    "queen",
    "love",
    "war",
    "man",
    "woman",
    "house",
    "road",
    "sea",
    "fire",
    "ice",
    "shadow",
    "heart",
    "dream",
    "ghost",
    "garden",
    "iron",
    "glass",
    "stone",
    "storm",
    "wild",
    "little",
    "big",
    "red",
    "blue",
    "black",
]
FORMATS = ["DVD", "Blu-ray", "4K UHD", "Digital", "VHS", "LaserDisc", "Other"]
RESOLUTIONS = [("sd", 480), ("720p", 720), ("1080p", 1080), ("4k", 2160)]


def _name(rng: random.Random, i: int) -> str:
    first = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
    last = ["Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka", "Ueda"]
    return f"{rng.choice(first)} {rng.choice(last)} {i}"


@contextmanager
def postgres_database(keep: bool):
    import psycopg

    name = f"boxset_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        if not keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_app(url: str, data_dir: str):
    os.environ["DATA_DIR"] = data_dir
    from app import create_app
    from app.services.database import upgrade_database
    from config import TestConfig

    app = create_app(
        {
            **TestConfig.as_dict(),
            "TESTING": False,
            "SERVER_NAME": None,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "AUDIT_LOG_MODE": "off",
        }
    )
    upgrade_database(app)
    with app.app_context():
        app.appbuilder.sm.bootstrap()
    for name in ("", "boxset"):  # logs to stderr: stdout carries only the JSON report
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
    return app


def seed(app, items: int, rng: random.Random) -> dict[str, Any]:
    """Bulk-load the catalog with the ORM's bulk inserts (same tables the app writes)."""
    from sqlalchemy import insert, text

    from app.extensions import db
    from app.models.accounts import BoxsetUser
    from app.models.media import (
        Genre,
        Media,
        MediaGenre,
        MediaPerson,
        MediaSeason,
        MediaVariant,
        Person,
    )
    from app.services import accounts, tenancy
    from app.services.context import NO_REQUEST
    from app.services.media import name_key, sort_title

    started = time.perf_counter()
    with app.app_context():
        sm = app.appbuilder.sm
        owner = BoxsetUser(
            username="bench@example.test", email="bench@example.test", first_name="Bench",
            last_name="", active=True, password=accounts._hash(PASSWORD),
            roles=[sm.find_role("Admin")],
        )  # fmt: skip
        db.session.add(owner)
        db.session.flush()
        libraries = []
        for space_name in ("Home", "Cabin"):
            space, first = tenancy.create_space_for(owner, space_name, info=NO_REQUEST)
            libraries.append((space.id, first.id))
            second = tenancy.Library(space_id=space.id, name="Shelf 2", created_by=owner.id)
            db.session.add(second)
            db.session.flush()
            libraries.append((space.id, second.id))
        tenancy.set_active_scope(owner.id, libraries[0][0], libraries[0][1])
        db.session.commit()

        db.session.execute(insert(Genre), [{"name": g, "name_key": name_key(g)} for g in GENRES])
        directors = [_name(rng, i) for i in range(5000)]
        actors = [_name(rng, 100000 + i) for i in range(20000)]
        db.session.execute(
            insert(Person), [{"name": n, "name_key": name_key(n)} for n in directors + actors]
        )
        db.session.commit()
        genre_ids = [r[0] for r in db.session.execute(text("SELECT id FROM genres ORDER BY id"))]
        person_ids = [r[0] for r in db.session.execute(text("SELECT id FROM people ORDER BY id"))]
        director_ids, actor_ids = person_ids[:5000], person_ids[5000:]

        now = datetime.now(UTC)
        batch = 5000
        media_id = 0
        for start in range(0, items, batch):
            rows, genres, people, variants, seasons = [], [], [], [], []
            for _ in range(min(batch, items - start)):
                media_id += 1
                space_id, library_id = libraries[media_id % len(libraries)]
                words = rng.sample(WORDS, rng.randint(1, 4))
                title = " ".join(w.title() for w in words)
                if rng.random() < 0.2:
                    title = f"The {title}"
                media_type = rng.choices(
                    ["movie", "tv_series", "tv_episode", "other"], [80, 10, 5, 5]
                )[0]
                rows.append(
                    {
                        "id": media_id, "space_id": space_id, "library_id": library_id,
                        "title": f"{title} {media_id}",
                        "sort_title": sort_title(f"{title} {media_id}"),
                        "media_type": media_type,
                        "format": rng.choice(FORMATS) if rng.random() < 0.9 else None,
                        "year": rng.randint(1920, 2025) if rng.random() < 0.95 else None,
                        "rating": round(rng.uniform(1, 10), 1) if rng.random() < 0.8 else None,
                        "user_rating": rng.randint(0, 10) if rng.random() < 0.4 else None,
                        "runtime": rng.randint(70, 200), "added_by": owner.id,
                        "created_at": now - timedelta(minutes=items - media_id),
                        "updated_at": now,
                    }
                )  # fmt: skip
                for genre_id in rng.sample(genre_ids, rng.randint(1, 3)):
                    genres.append({"media_id": media_id, "genre_id": genre_id})
                people.append({"media_id": media_id, "person_id": rng.choice(director_ids),
                               "role": "director", "billing_order": 0})  # fmt: skip
                for order, actor_id in enumerate(rng.sample(actor_ids, rng.randint(3, 8))):
                    people.append({"media_id": media_id, "person_id": actor_id, "role": "cast",
                                   "billing_order": order})  # fmt: skip
                if rng.random() < 0.3:
                    resolution, height = rng.choice(RESOLUTIONS)
                    variants.append({"media_id": media_id, "resolution": resolution,
                                     "height": height, "created_at": now})  # fmt: skip
                if media_type == "tv_series":
                    for number in range(1, rng.randint(2, 6)):
                        seasons.append({"media_id": media_id, "season_number": number,
                                        "expected_episodes": 10, "available_episodes": 10,
                                        "is_complete": True})  # fmt: skip
            db.session.execute(insert(Media), rows)
            db.session.execute(insert(MediaGenre), genres)
            db.session.execute(insert(MediaPerson), people)
            if variants:
                db.session.execute(insert(MediaVariant), variants)
            if seasons:
                db.session.execute(insert(MediaSeason), seasons)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval('media_id_seq', :n)"), {"n": media_id})
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()

        def busiest(role: str) -> str:
            """A person with many items in the first library: a realistic, non-empty filter."""
            return db.session.execute(
                text(
                    "SELECT p.name_key FROM media_people mp JOIN people p ON p.id = mp.person_id "
                    "JOIN media m ON m.id = mp.media_id WHERE mp.role = :role "
                    "AND m.library_id = :library GROUP BY p.name_key ORDER BY count(*) DESC, "
                    "p.name_key LIMIT 1"
                ),
                {"role": role, "library": libraries[0][1]},
            ).scalar()

        sample_director, sample_actor = busiest("director"), busiest("cast")
        owner_id = owner.id
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "user_id": owner_id,
        "space_id": libraries[0][0],
        "director": sample_director,
        "actor": sample_actor,
    }


def measure(app, seeded: dict[str, Any], requests: int) -> dict[str, Any]:
    client = app.test_client()
    response = client.post("/api/auth/login", json={"email": "bench@example.test",
                                                    "password": PASSWORD})  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    total_pages = client.get("/api/media?sort_by=title&limit=50").json["total_pages"]
    deep_page = max(2, min(1000, total_pages - 1))  # page 1000 at 100k items per library
    deep = client.get(f"/api/media?sort_by=title&limit=50&page={deep_page - 1}").json
    deep_cursor = deep["next_cursor"]
    first_item = client.get("/api/media?limit=1").json["result"][0]["id"]
    scenarios = {
        "default_list": "/api/media",
        "title_page_1": "/api/media?sort_by=title&page=1",
        "title_page_deep": f"/api/media?sort_by=title&page={deep_page}",
        "title_cursor_deep": f"/api/media?sort_by=title&cursor={deep_cursor}",
        "year_desc": "/api/media?sort_by=year&sort_dir=desc",
        "genre_year": "/api/media?genre=drama&year_min=1990&year_max=2000",
        "director": f"/api/media?director={quote(seeded['director'])}",
        "actor": f"/api/media?actor={quote(seeded['actor'])}",
        "resolution": "/api/media?resolution=4k",
        "rating_range": "/api/media?rating_min=7&rating_max=8.5",
        "search": "/api/media?search=golden%20river",
        # The same listings right after a change to the catalog: the count is not cached
        # (reported beside the target, see run()).
        "default_list_recount": "/api/media",
        "resolution_recount": "/api/media?resolution=4k",
        "search_recount": "/api/media?search=golden%20river",
        "item_detail": f"/api/media/{first_item}",
    }
    results = {}
    for name, url in scenarios.items():
        for _ in range(3):  # warm up caches and plans
            client.get(url)
        timings = []
        for _ in range(requests):
            if name.endswith("_recount"):
                _change_catalog(app, first_item)
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code, response.json)
        timings.sort()
        results[name] = {
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 2),
            "count": response.json.get("count"),
        }
    return results


def _change_catalog(app, media_id: int) -> None:
    """A committed (no-op) change to an item: listings count their matches again."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models.media import Media

    with app.app_context():
        db.session.execute(update(Media).where(Media.id == media_id).values(notes=Media.notes))
        db.session.commit()


def run(
    backend: str,
    items: int,
    requests: int,
    keep: bool,
    concurrency: dict[str, Any] | None = None,
    with_imports: bool = False,
) -> dict[str, Any]:
    rng = random.Random(20261126)
    concurrent = imported = None
    with tempfile.TemporaryDirectory(prefix="boxset-bench-") as tmp:
        context = postgres_database(keep) if backend == "postgresql" else _sqlite_file(tmp)
        with context as url:
            app = build_app(url, tmp)
            seeded = seed(app, items, rng)
            results = measure(app, seeded, requests)
            if concurrency:
                from bench import concurrency as load_run

                print(
                    f"bench: {concurrency['clients']} clients for {concurrency['seconds']} s "
                    "against gunicorn …",
                    file=sys.stderr,
                )
                concurrent = load_run.run(app, seeded, url, tmp, **concurrency)
            if with_imports:
                from bench import imports as import_run

                print("bench: CSV and Plex imports …", file=sys.stderr)
                imported = import_run.run(app, seeded)
    # The target covers the browsing requests as asked again and again (the count
    # cached, as while scrolling); the "_recount" rows, right after a change, are reported.
    lists = [k for k in results if k != "item_detail" and not k.endswith("_recount")]
    worst = max(results[k]["p95_ms"] for k in lists)
    recounts = [results[k]["p95_ms"] for k in results if k.endswith("_recount")]
    first, deep = results["title_page_1"]["p95_ms"], results["title_page_deep"]["p95_ms"]
    cursor = results["title_cursor_deep"]["p95_ms"]
    return {
        "backend": backend,
        "items": items,
        "seed_seconds": seeded["seconds"],
        "results": results,
        "targets": {
            "p95_ms_max": TARGET_MS[backend],
            "worst_list_p95_ms": worst,
            "meets_p95": worst <= TARGET_MS[backend],
            "worst_recount_p95_ms": max(recounts) if recounts else None,
            "deep_page_ratio": round(deep / first, 2) if first else None,
            "deep_cursor_ratio": round(cursor / first, 2) if first else None,
            "meets_deep_pages": deep <= 1.5 * first and cursor <= 1.5 * first,
        },
        **({"concurrency": concurrent} if concurrent else {}),
        **({"imports": imported} if imported else {}),
    }


@contextmanager
def _sqlite_file(tmp: str):
    yield f"sqlite:///{tmp}/bench.db"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--sqlite", action="store_true", help="also run on SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--concurrency-clients", type=int, default=50, metavar="N")
    parser.add_argument("--concurrency-seconds", type=float, default=60.0, metavar="S")
    parser.add_argument(
        "--concurrency-warmup", type=float, default=5.0, metavar="S",
        help="seconds of load before measuring (default 5)",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency-think-ms", type=float, default=THINK_MS, metavar="MS",
        help=f"mean pause of each client between requests (default {THINK_MS:g}; 0: back to back)",
    )  # fmt: skip
    parser.add_argument(
        "--no-concurrency", action="store_true", help="skip the gunicorn run with many clients"
    )
    parser.add_argument(
        "--no-imports", action="store_true", help="skip the CSV and Plex import runs"
    )
    args = parser.parse_args()
    # stdout carries only the JSON report: anything else that prints (log handlers made on
    # sys.stdout by the app or by Alembic while a database is set up) goes to stderr.
    report_stream, sys.stdout = sys.stdout, sys.stderr
    # `kill` (or make being stopped) unwinds like Ctrl-C: gunicorn and the database go too.
    signal.signal(signal.SIGTERM, _interrupted)
    concurrency = None
    if not args.no_concurrency and args.concurrency_clients > 0:
        concurrency = {
            "clients": args.concurrency_clients,
            "seconds": args.concurrency_seconds,
            "warmup": args.concurrency_warmup,
            "think_ms": args.concurrency_think_ms,
        }
    report = {
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "runs": [
            run(
                "postgresql",
                args.items,
                args.requests,
                args.keep,
                concurrency,
                with_imports=not args.no_imports,
            )
        ],
    }
    if args.sqlite:
        report["runs"].append(run("sqlite", args.items, args.requests, args.keep))
    passed = all(
        r["targets"]["meets_p95"]
        and r["targets"]["meets_deep_pages"]
        and r.get("concurrency", {"targets": {"passed": True}})["targets"]["passed"]
        and r.get("imports", {"targets": {"passed": True}})["targets"]["passed"]
        for r in report["runs"]
    )
    report["passed"] = passed
    print(json.dumps(report, indent=2), file=report_stream, flush=True)
    return 0 if passed else 1


def _interrupted(_signum, _frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # gunicorn is stopped and the database dropped by then
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
