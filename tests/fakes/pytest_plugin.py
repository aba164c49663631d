"""pytest fixtures for the fake providers. Enable with, in tests/conftest.py:

    pytest_plugins = ["tests.fakes.pytest_plugin"]

Each fake's server starts once per session (on first use) and is reset before every test
that uses it: default credentials, no scripts, no recorded requests. Use `fake.base_url` as
the provider URL and the module constants (e.g. `tests.fakes.tmdb.API_KEY`) as credentials;
`fast_http` gives HttpOptions with a short timeout and near-instant retries.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.providers.http import HttpOptions, RetryPolicy
from tests.fakes.barcode import BarcodeFake
from tests.fakes.ocr import OcrFake
from tests.fakes.plex import PlexFake
from tests.fakes.server import FakeServer, FakeService
from tests.fakes.tmdb import TmdbFake


def _serve(fake: FakeService) -> Iterator[FakeService]:
    server = FakeServer(fake).start()
    try:
        yield fake
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _fake_tmdb_server() -> Iterator[FakeService]:
    yield from _serve(TmdbFake())


@pytest.fixture(scope="session")
def _fake_barcode_server() -> Iterator[FakeService]:
    yield from _serve(BarcodeFake())


@pytest.fixture(scope="session")
def _fake_ocr_server() -> Iterator[FakeService]:
    yield from _serve(OcrFake())


@pytest.fixture(scope="session")
def _fake_plex_server() -> Iterator[FakeService]:
    yield from _serve(PlexFake())


@pytest.fixture
def fake_tmdb(_fake_tmdb_server: TmdbFake) -> TmdbFake:
    _fake_tmdb_server.reset()
    return _fake_tmdb_server


@pytest.fixture
def fake_barcode(_fake_barcode_server: BarcodeFake) -> BarcodeFake:
    _fake_barcode_server.reset()
    return _fake_barcode_server


@pytest.fixture
def fake_ocr(_fake_ocr_server: OcrFake) -> OcrFake:
    _fake_ocr_server.reset()
    return _fake_ocr_server


@pytest.fixture
def fake_plex(_fake_plex_server: PlexFake) -> PlexFake:
    _fake_plex_server.reset()
    return _fake_plex_server


@pytest.fixture
def fast_http() -> HttpOptions:
    """Short timeout, three attempts with millisecond backoff, Retry-After up to 2 s."""
    return HttpOptions(
        timeout=2.0,
        retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, max_retry_after=2.0),
    )
