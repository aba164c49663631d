"""Import throughput: a 20,000-row CSV and a 10,000-item Plex import from the local fake Plex
server, without enrichment, each as a job in its own fresh library on PostgreSQL.

Targets (issue "Integrations and imports"): at least 1,000 CSV rows per second, 10,000 Plex items
in at most 30 s, and memory flat: the job's peak resident memory grows by far less than the
input would take loaded whole (sampled every 50 ms from /proc/self/statm).
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

CSV_ROWS = 20_000
PLEX_ITEMS = 10_000
TARGETS = {"csv_rows_per_s_min": 1000.0, "plex_seconds_max": 30.0}
FORMATS = ("DVD", "Blu-ray", "4K UHD", "Digital", "VHS")


def _csv(rows: int, rng: random.Random) -> bytes:
    lines = ["title,media_type,year,format,directors,genres,cast,rating,user_rating,runtime,upc"]
    for i in range(rows):
        cast = "|".join(f"Actor {rng.randrange(20_000)}" for _ in range(rng.randint(2, 5)))
        genres = "|".join(f"Genre {rng.randrange(40)}" for _ in range(rng.randint(1, 3)))
        upc = f"{400_000_000_000 + i}" if rng.random() < 0.5 else ""
        lines.append(
            f"Imported film {i},movie,{rng.randint(1920, 2025)},{rng.choice(FORMATS)},"
            f"Director {rng.randrange(5_000)},{genres},{cast},{round(rng.uniform(1, 10), 1)},,"
            f"{rng.randint(70, 200)},{upc}"
        )
    return ("\n".join(lines) + "\n").encode()


class _PeakRss:
    """Peak resident set size while the block runs, sampled from /proc/self/statm."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return round((self.peak - self.start) / 2**20, 1)


def _library(app, user_id: int, space_id: int, name: str) -> int:
    from app.extensions import db
    from app.models.tenancy import Library

    with app.app_context():
        library = Library(space_id=space_id, name=name)
        db.session.add(library)
        db.session.commit()
        return library.id


def _run_job(app, user_id: int, space_id: int, library_id: int, provider: str, data, options):
    from flask import g

    from app.extensions import db
    from app.models.accounts import BoxsetUser
    from app.models.imports import SyncJob
    from app.services import imports, tenancy
    from app.services.context import NO_REQUEST

    with app.app_context():
        g.writes_database = True
        user = db.session.get(BoxsetUser, user_id)
        scope = tenancy.resolve_scope(user, space_id=space_id)
        job_id = imports.start_job(
            scope, provider, data=data, file_name=f"bench.{provider}", options=options,
            library_id=library_id, info=NO_REQUEST,
        )  # fmt: skip
        with _PeakRss() as memory:
            started = time.perf_counter()
            imports.run_job(job_id)
            seconds = time.perf_counter() - started
        job = db.session.get(SyncJob, job_id)
        result = {"status": job.status, "error": job.error, "summary": job.summary}
        db.session.remove()
    return seconds, memory.growth_mb, result


def run(app, seeded: dict[str, Any]) -> dict[str, Any]:
    """Both imports into fresh libraries of the first seeded space."""
    from app.extensions import db
    from app.models.accounts import BoxsetUser
    from app.services import integrations, tenancy
    from app.services.context import NO_REQUEST
    from tests.fakes.plex import TOKEN, PlexFake
    from tests.fakes.server import FakeServer

    user_id, space_id = seeded["user_id"], seeded["space_id"]
    rng = random.Random(7)
    data = _csv(CSV_ROWS, rng)
    csv_library = _library(app, user_id, space_id, "Bench CSV import")
    seconds, memory, result = _run_job(app, user_id, space_id, csv_library, "csv_generic", data, {})
    csv_report = {
        "rows": CSV_ROWS, "seconds": round(seconds, 2),
        "rows_per_s": round(CSV_ROWS / seconds), "input_mb": round(len(data) / 2**20, 1),
        "peak_memory_growth_mb": memory, **result,
    }  # fmt: skip

    fake = PlexFake()
    fake.synthetic_movies = PLEX_ITEMS - 6  # plus the six fixture movies of section 1
    server = FakeServer(fake).start()
    try:
        with app.app_context():
            user = db.session.get(BoxsetUser, user_id)
            scope = tenancy.resolve_scope(user, space_id=space_id)
            integrations.update_settings(
                scope, {"plex_api_url": fake.base_url, "plex_api_token": TOKEN}, NO_REQUEST
            )
            db.session.remove()
        plex_library = _library(app, user_id, space_id, "Bench Plex import")
        sections = {"sections": [{"key": "1", "title": "Movies", "type": "movie"}]}
        seconds, memory, result = _run_job(
            app, user_id, space_id, plex_library, "plex", None, sections
        )
    finally:
        server.stop()
    plex_report = {
        "items": PLEX_ITEMS, "seconds": round(seconds, 2),
        "items_per_s": round(PLEX_ITEMS / seconds), "peak_memory_growth_mb": memory, **result,
    }  # fmt: skip
    return {
        "csv": csv_report,
        "plex": plex_report,
        "targets": {
            **TARGETS,
            "passed": (
                csv_report["status"] == "succeeded"
                and plex_report["status"] == "succeeded"
                and csv_report["rows_per_s"] >= TARGETS["csv_rows_per_s_min"]
                and plex_report["seconds"] <= TARGETS["plex_seconds_max"]
            ),
        },
    }
