"""The generic CSV import: Boxset's own template (`template-csv`) and spreadsheets like it.

Headers match case-insensitively (`director`, `genre` and `actors` are accepted for `directors`,
`genres` and `cast`); list cells separate values with `|`. Every row goes through the API's own
item schema, so a row imports exactly when the same item could be added by hand. The reported row
number is the spreadsheet's (header = 1, first record = 2).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from app.models.imports import SyncJob
from app.services.imports import ImportRejected, ImportRow, decode_text, validated_row

COLUMNS = (
    "title", "media_type", "year", "format", "directors", "genres", "cast", "rating",
    "user_rating", "runtime", "upc", "imdb_id", "tmdb_id", "season_number", "location", "notes",
)  # fmt: skip
EXAMPLE = (
    "The Matrix", "movie", "1999", "Blu-ray", "Lana Wachowski|Lilly Wachowski", "Action|Sci-Fi",
    "Keanu Reeves|Carrie-Anne Moss", "8.7", "9", "136", "085391163121", "tt0133093", "603", "",
    "Shelf A", "Bought in 2003",
)  # fmt: skip
ALIASES = {"director": "directors", "genre": "genres", "actors": "cast", "ean": "upc"}
LISTS = {"directors", "genres", "cast"}
INTEGERS = {"year", "runtime", "tmdb_id", "season_number"}
NUMBERS = {"rating", "user_rating"}
MAX_FIELD = 100_000

csv.field_size_limit(MAX_FIELD)


def template() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(EXAMPLE)
    return buffer.getvalue()


def _columns(header: list[str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = " ".join(name.strip().lower().replace("_", " ").split()).replace(" ", "_")
        key = ALIASES.get(key, key)
        if key in COLUMNS and key not in mapping.values():
            mapping[index] = key
    if "title" not in mapping.values():
        raise ImportRejected(
            {"file": ["The first row must be a header with a title column (see the template)."]}
        )
    return mapping


def _records(data: bytes) -> Iterator[list[str]]:
    text = decode_text(data)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), strict=False)
    except csv.Error as exc:
        raise ImportRejected({"file": [f"This is not a readable CSV file: {exc}."]}) from None


def check(data: bytes) -> int:
    """Refuse an unusable file before it is queued; returns about how many records it has."""
    records = _records(data)
    _columns(next(records, []))
    return data.count(b"\n")


def _convert(column: str, cell: str) -> Any:
    if column in LISTS:
        return [part.strip() for part in cell.split("|") if part.strip()]
    if column in INTEGERS:
        return int(cell) if cell.lstrip("-").isdigit() else cell
    if column in NUMBERS:
        try:
            return float(cell.replace(",", "."))
        except ValueError:
            return cell
    if column == "upc":
        digits = "".join(ch for ch in cell if ch.isdigit())
        return (
            digits
            if digits and len(digits) >= len(cell.replace(" ", "").replace("-", ""))
            else cell
        )
    return cell


def to_row(number: int, values: dict[str, str]) -> ImportRow:
    """Validate one record (text cells) through the API's item schema."""
    return validated_row(
        number, {k: _convert(k, v.strip()) for k, v in values.items() if v.strip()}
    )


def read(job: SyncJob, data: bytes | None) -> Iterator[ImportRow]:
    records = _records(data or b"")
    mapping = _columns(next(records, []))
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue
        values = {mapping[i]: cell for i, cell in enumerate(record) if i in mapping}
        yield to_row(number, values)
