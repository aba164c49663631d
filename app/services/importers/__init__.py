"""Import sources: each turns a job's input into `ImportRow`s for `app.services.imports`."""

from __future__ import annotations

from app.services.importers import csv_generic, delicious, plex

READERS = {
    "csv_generic": csv_generic.read,
    "csv_delicious": delicious.read,
    "plex": plex.read,
}
