"""Local fake provider services for tests: TMDB, UPCitemdb + barcodelookup.com, OCR.space and
Plex, each a real HTTP server on 127.0.0.1 (see server.py). Fixtures for pytest are in
pytest_plugin.py (`fake_tmdb`, `fake_barcode`, `fake_ocr`, `fake_plex`)."""

from tests.fakes.barcode import BarcodeFake
from tests.fakes.ocr import OcrFake
from tests.fakes.plex import PlexFake
from tests.fakes.server import FakeServer, FakeService, RecordedRequest
from tests.fakes.tmdb import TmdbFake

__all__ = [
    "BarcodeFake",
    "FakeServer",
    "FakeService",
    "OcrFake",
    "PlexFake",
    "RecordedRequest",
    "TmdbFake",
]
