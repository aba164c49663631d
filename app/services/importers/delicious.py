"""Delicious Library exports (formats.md A): the 1.x `<library>` XML, the 2/3 property list and
the CSV export, detected by content, never by file name.

Both XML shapes are read with `defusedxml`'s `iterparse` and its defaults: the Apple plist
DOCTYPE passes, any `<!ENTITY …>` declaration (billion laughs, quadratic blow-up, external
entities) is refused with a 400 before anything is expanded or stored. Elements are dropped as
soon as they are read, so memory stays flat however large the library.

Every source record becomes a `_Record` (the source's values, typed and cleaned), and one mapping
(formats.md A.4) turns it into an `ImportRow`: the item fields go through the API's own item
schema (`MediaPostSchema`), exactly like the generic CSV import, so a record imports exactly when
the same item could be added by hand. Books, music and games are `skipped` with the reason; a
boxed set is imported as one item and flagged in the row's detail; a TV season filed as a movie
becomes a `tv_series` with its season.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, iterparse

from app.models.imports import SyncJob
from app.services.imports import ImportRejected, ImportRow, decode_text, set_total, validated_row

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

_BOM = b"\xef\xbb\xbf"
_SQLITE = b"SQLite format 3\x00"
_COCOA_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
MAX_TEXT = 20_000  # overview and notes, as the item schema allows
MAX_NAMES = 200

# --- whole-file checks -------------------------------------------------------------------------


def _refuse(message: str) -> ImportRejected:
    return ImportRejected({"file": [message]})


def refuse_library_store(data: bytes) -> None:
    """The library's own SQLite store is a common mistake: say what to upload instead."""
    if data.startswith(_SQLITE):
        raise _refuse(
            "This is the Delicious Library database itself, not an export. Export the library "
            "from Delicious Library (XML or CSV) and upload that file."
        )


def _shape(data: bytes) -> str:
    """ "dl1", "plist" or "csv", from the first meaningful bytes and (for XML) the root element."""
    refuse_library_store(data)
    head = data.removeprefix(_BOM).lstrip()
    if not head.startswith(b"<"):
        return "csv"
    root = _xml_root(data)
    if root == "library":
        return "dl1"
    if root == "plist":
        return "plist"
    raise _refuse(
        f"This XML file is not a Delicious Library export: its root element is <{root}>, "
        "expected <library> (Delicious Library 1) or <plist> (Delicious Library 2 or 3)."
    )


def _events(data: bytes, events: tuple[str, ...]) -> Iterator[tuple[str, Element]]:
    """`defusedxml` iterparse with its defaults; unsafe or broken XML becomes a clear 400."""
    try:
        yield from iterparse(io.BytesIO(data), events=events)
    except EntitiesForbidden:
        raise _refuse(
            "The XML file declares entities (<!ENTITY …>). Entity expansion and external "
            "entities are refused for safety; a Delicious Library export never has them."
        ) from None
    except ExternalReferenceForbidden:
        raise _refuse(
            "The XML file refers to an external entity or document, which is refused for safety."
        ) from None
    except DefusedXmlException:
        raise _refuse("The XML file uses constructs refused for safety.") from None
    except ParseError as exc:
        raise _refuse(f"This is not well-formed XML ({exc}).") from None


def _xml_root(data: bytes) -> str:
    for _event, elem in _events(data, ("start",)):
        return elem.tag if isinstance(elem.tag, str) else "?"
    raise _refuse("This XML file has no root element.")  # pragma: no cover (ParseError first)


def _level3(data: bytes) -> Iterator[tuple[str, Element]]:
    """Every complete element two levels below the root, with its parent's tag, in file order.
    Elements are removed from the tree once handled, so memory does not grow with the file;
    anything deeper (such as an item's `<recommendations>`) stays inside its level-3 element."""
    stack: list[Element] = []
    for event, elem in _events(data, ("start", "end")):
        if event == "start":
            stack.append(elem)
            continue
        stack.pop()
        if len(stack) == 2:
            yield stack[1].tag, elem
            stack[1].remove(elem)
        elif len(stack) == 1:
            stack[0].remove(elem)


def check(data: bytes) -> int:
    """Refuse what cannot be imported before it is queued; returns about how many items."""
    shape = _shape(data)
    if shape == "dl1":
        total = _dl1_scan(data)[0]
    elif shape == "plist":
        total = _plist_scan(data)
    else:
        total = _csv_scan(data)
    if total == 0:
        raise _refuse("The export contains no items.")
    return total


def read(job: SyncJob, data: bytes | None) -> Iterator[ImportRow]:
    """One `ImportRow` per item, in file order."""
    data = data or b""
    shape = _shape(data)
    if shape == "dl1":
        total, shelves = _dl1_scan(data)
        records = _dl1_records(data, shelves)
    elif shape == "plist":
        total, records = _plist_scan(data), _plist_records(data)
    else:
        total, records = _csv_scan(data), _csv_records(data)
    if job is not None:
        set_total(job, total)
    for record in records:
        yield to_row(record)


# --- the common record -------------------------------------------------------------------------


@dataclass
class _Record:
    """One Delicious item, whatever the shape it came in: the source's values, cleaned."""

    row: int
    kind: str  # "movie", or the source's name of another kind ("Book", "VideoGame", ...)
    title: str
    uuid: str | None = None
    format_text: str = ""
    edition: str = ""
    platform: str = ""
    directors: list[str] = field(default_factory=list)
    cast: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)  # Amazon browse nodes, unfiltered
    features: list[str] = field(default_factory=list)
    year: int | None = None
    release_date: date | None = None
    release_is_set_date: bool = False  # CSV: the only date; for box and TV sets the set's release
    disc_release_date: str = ""
    minutes: int | str | None = None
    discs: int | None = None
    net_rating: float | None = None
    user_rating: float | str | None = None
    upc: str | None = None
    overview: str = ""
    notes: str = ""
    location: str = ""
    extra_notes: list[str] = field(default_factory=list)  # price, purchase, signature, shelves
    metadata: dict[str, str] = field(default_factory=dict)


# --- Delicious Library 1: <library><items><movie .../> ----------------------------------------

DL1_KINDS = ("movie", "book", "music", "game")


def _dl1_scan(data: bytes) -> tuple[int, dict[str, list[str]]]:
    """How many items, and the shelf names of each item uuid (shelves follow the items)."""
    total, shelves = 0, {}
    for parent, elem in _level3(data):
        if parent == "items" and elem.tag in DL1_KINDS:
            total += 1
        elif parent == "shelves" and elem.tag == "shelf":
            name = (elem.get("name") or "").strip()
            for link in elem.iter("linkto"):
                uuid = (link.get("uuid") or "").strip().upper()
                if name and uuid:
                    shelves.setdefault(uuid, []).append(name)
    return total, shelves


def _dl1_records(data: bytes, shelves: dict[str, list[str]]) -> Iterator[_Record]:
    number = 0
    for parent, elem in _level3(data):
        if parent == "items" and elem.tag in DL1_KINDS:
            number += 1
            yield _dl1_record(number, elem, shelves)


def _dl1_record(number: int, elem: Element, shelves: dict[str, list[str]]) -> _Record:
    a = {k: (v or "").strip() for k, v in elem.attrib.items()}
    uuid = a.get("uuid", "").upper() or None
    year, release = dl1_date(a.get("theatricalDate", ""))
    record = _Record(
        row=number, kind="movie" if elem.tag == "movie" else elem.tag.title(),
        title=a.get("title", ""), uuid=uuid, format_text=_first_line(a.get("aspect", "")),
        edition=a.get("edition", ""), platform=a.get("platform", ""),
        directors=split_lines(a.get("director", "")), cast=split_lines(a.get("stars", "")),
        genres=split_lines(a.get("genre", "")), features=split_lines(a.get("features", "")),
        year=year, release_date=release, disc_release_date=_dl1_iso(a.get("published", "")),
        minutes=_count(a.get("minutes")), discs=_int_or_none(a.get("mediacount")),
        net_rating=_float_or_none(a.get("netrating")), upc=gtin(a.get("upc", "")),
        overview=rtf_to_text(elem.findtext("description") or ""),
    )  # fmt: skip
    purchased = _dl1_iso(a.get("purchaseDate", ""))
    _add_common_extras(record, price=a.get("price", ""), purchased=purchased,
                       shelves=shelves.get(uuid or "", []))  # fmt: skip
    _put(record.metadata, asin=a.get("asin"), certification=a.get("mpaarating"),
         studio=a.get("publisher"), amazon_store=a.get("country"),
         delicious_added=_cocoa_date(a.get("created")),
         barcode=_bad_barcode(a.get("upc", "")))  # fmt: skip
    return record


_DMY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def dl1_date(value: str) -> tuple[int | None, date | None]:
    """A DL1 date: `DD-MM-YYYY` gives the full date; otherwise only the last four digits are
    trusted as the year (as Tellico does)."""
    value = value.strip()
    match = _DMY.match(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            full = date(year, month, day)
        except ValueError:
            full = None
        if full and _plausible_year(year):
            return year, full
    tail = value[-4:]
    return (_plausible_year(int(tail)) if tail.isdigit() else None), None


def _dl1_iso(value: str) -> str:
    year, full = dl1_date(value)
    return full.isoformat() if full else (str(year) if year else "")


def _cocoa_date(value: str | None) -> str:
    """`created`: seconds since 2001-01-01 UTC (the Cocoa reference date)."""
    seconds = _float_or_none(value)
    if seconds is None or not 0 <= seconds < 10**10:
        return ""
    return (_COCOA_EPOCH + timedelta(seconds=seconds)).date().isoformat()


# --- RTF descriptions ----------------------------------------------------------------------------

_RTF_TOKEN = re.compile(
    r"\\([a-zA-Z]+)(-?\d+)? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}]+)", re.DOTALL
)
_RTF_SKIP = {
    "fonttbl", "colortbl", "expandedcolortbl", "stylesheet", "info", "pict", "header", "footer",
    "listtable", "listoverridetable", "themedata", "generator", "object", "field", "fldinst",
}  # fmt: skip
_RTF_WORDS = {
    "par": "\n", "line": "\n", "tab": "\t", "emdash": "\u2014", "endash": "\u2013",
    "lquote": "\u2018", "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d",
    "bullet": "\u2022",
}  # fmt: skip
_RTF_SYMBOLS = {"\\": "\\", "{": "{", "}": "}", "\n": "\n", "\r": "\n", "~": "\xa0", "_": "-"}


def _rtf_codec(rtf: str) -> str:
    match = re.search(r"\\ansicpg(\d+)", rtf[:500])
    page = match.group(1) if match else ("10000" if "\\mac" in rtf[:100] else "1252")
    name = "mac_roman" if page == "10000" else f"cp{page}"
    try:
        codecs.lookup(name)
    except LookupError:
        return "mac_roman"
    return name


class _RtfText:
    """The state of one RTF-to-text conversion."""

    def __init__(self, codec: str) -> None:
        self.codec, self.out, self.pending = codec, [], bytearray()
        self.skip = False  # inside a group that is not text (font table, `{\*\…}`)
        self.uc, self.fallback = 1, 0  # characters that stand in for each `\uN`, still to skip
        self.group_start = False  # the last token opened a group: a destination may follow
        self.stack: list[tuple[bool, int]] = []

    def text(self, value: str) -> None:
        self.flush()
        if not self.skip:
            self.out.append(value)

    def flush(self) -> None:
        if self.pending:
            if not self.skip:
                self.out.append(self.pending.decode(self.codec, errors="replace"))
            self.pending.clear()

    def brace(self, char: str) -> None:
        self.flush()
        if char == "{":
            self.stack.append((self.skip, self.uc))
            self.group_start = True
        elif self.stack:
            self.skip, self.uc = self.stack.pop()

    def word(self, name: str, arg: str | None, starting: bool) -> None:
        if starting and name in _RTF_SKIP:
            self.skip = True
        elif name == "u" and arg:
            code = int(arg)
            self.text(chr(code + 65536 if code < 0 else code))
            self.fallback = self.uc
        elif name == "uc" and arg:
            self.uc = int(arg)
        elif name in _RTF_WORDS:
            self.text(_RTF_WORDS[name])

    def result(self) -> str:
        self.flush()
        lines = [line.rstrip() for line in "".join(self.out).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def rtf_to_text(rtf: str) -> str:
    """The plain text of a Delicious `<description>` (Mac RTF): groups such as the font and
    colour tables dropped, control words removed, `\\par` and `\\`+newline as line breaks,
    `\\'hh` decoded with the document's code page (Mac Roman)."""
    if not rtf.lstrip().startswith("{\\rtf"):
        return rtf.strip()
    state = _RtfText(_rtf_codec(rtf))
    for match in _RTF_TOKEN.finditer(rtf):
        word, arg, hexcode, symbol, brace, text = match.groups()
        starting, state.group_start = state.group_start, False
        if hexcode is not None:
            if state.fallback:
                state.fallback -= 1
            else:
                state.pending.append(int(hexcode, 16))
        elif text is not None:
            text = text.replace("\r", "").replace("\n", "")
            skipped = min(state.fallback, len(text))
            state.fallback -= skipped
            if text[skipped:]:
                state.text(text[skipped:])
        elif brace is not None:
            state.brace(brace)
        elif symbol is not None:
            if symbol == "*" and starting:
                state.skip = True
            elif symbol in _RTF_SYMBOLS:
                state.text(_RTF_SYMBOLS[symbol])
        else:
            state.word(word, arg, starting)
    return state.result()


# --- Delicious Library 2/3: <plist><array><dict>… -----------------------------------------------

_PLIST_IDS = ("uuidString", "foreignUUIDString", "title", "type")


def _plist_scan(data: bytes) -> int:
    total, recognised = 0, False
    for parent, elem in _level3(data):
        if parent == "array" and elem.tag == "dict":
            total += 1
            recognised = recognised or any(
                (key.text or "") in _PLIST_IDS for key in elem.iterfind("key")
            )
    if total and not recognised:
        raise _refuse(
            "This property list is not a Delicious Library export: its entries have no title, "
            "type or uuidString."
        )
    return total


def _plist_records(data: bytes) -> Iterator[_Record]:
    number = 0
    for parent, elem in _level3(data):
        if parent == "array" and elem.tag == "dict":
            number += 1
            yield _plist_record(number, plist_dict(elem))


def plist_value(elem: Element) -> Any:
    """A property-list value element as Python (dates as naive UTC datetimes)."""
    text = elem.text or ""
    converters = {
        "string": lambda: text,
        "integer": lambda: _int_or_none(text),
        "real": lambda: _float_or_none(text),
        "true": lambda: True,
        "false": lambda: False,
        "date": lambda: _plist_date(text),
        "array": lambda: [plist_value(child) for child in elem],
        "dict": lambda: plist_dict(elem),
    }
    convert = converters.get(elem.tag if isinstance(elem.tag, str) else "")
    return convert() if convert else None


def plist_dict(elem: Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    key: str | None = None
    for child in elem:
        if child.tag == "key":
            key = child.text or ""
        elif key is not None:
            out[key] = plist_value(child)
            key = None
    return out


def _plist_date(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%SZ")  # naive, in UTC
    except ValueError:
        return None


def local_day(value: Any) -> date | None:
    """The calendar day Delicious meant: it stores a local midnight in UTC, so add 12 hours
    (right for any offset from -12 to +11)."""
    if not isinstance(value, datetime):
        return None
    return (value + timedelta(hours=12)).date()


def _plist_record(number: int, d: dict[str, Any]) -> _Record:
    s = {k: v.strip() for k, v in d.items() if isinstance(v, str)}
    kind = s.get("type", "")
    theatrical = local_day(d.get("theatricalDate"))
    published = local_day(d.get("publishDate"))
    uuid = (s.get("uuidString") or s.get("foreignUUIDString") or "").upper() or None
    record = _Record(
        row=number, kind="movie" if kind.casefold() in ("", "movie") else kind,
        title=s.get("title", ""), uuid=uuid, format_text=s.get("formatSingularString", ""),
        edition=_first_line(s.get("editionsCompositeString", "")),
        platform=_first_line(s.get("platformsCompositeString", "")),
        directors=composite_people(s.get("creatorsCompositeString", "")),
        cast=composite_people(s.get("actorsCompositeString", "")),
        genres=composite_genres(s.get("genresCompositeString", "")),
        features=split_lines(s.get("featuresCompositeString", "")),
        year=_plausible_year(theatrical.year) if theatrical else None,
        release_date=theatrical if theatrical and _plausible_year(theatrical.year) else None,
        disc_release_date=published.isoformat() if published else "",
        minutes=_count(d.get("minutes")), discs=_int_or_none(d.get("numberOfMedia")),
        net_rating=_float_or_none(d.get("netRating")), user_rating=d.get("rating"),
        upc=gtin(s.get("ean", "")), notes=s.get("notes", ""),
        location=s.get("locationSingularString", ""),
    )  # fmt: skip
    purchased = local_day(d.get("purchaseDate"))
    _add_common_extras(record, price=s.get("price", ""),
                       purchased=purchased.isoformat() if purchased else "",
                       signed="yes" if d.get("isSigned") in (1, True) else "")  # fmt: skip
    created = d.get("creationDate")  # a real timestamp, not a local midnight
    added = created.date().isoformat() if isinstance(created, datetime) else ""
    _put(record.metadata, asin=s.get("asin"), isbn=isbn(s.get("isbn", "")),
         certification=s.get("audienceRecommendedAgeSingularString"),
         studio=_first_line(s.get("publishersCompositeString", "")),
         amazon_store=s.get("countryCode"), condition=s.get("conditionSingularString"),
         owner=s.get("ownerSingularString"), barcode=_bad_barcode(s.get("ean", "")),
         delicious_added=added)  # fmt: skip
    return record


def composite_people(value: str) -> list[str]:
    """Newline-separated names; a value without a newline is one name only when it looks like
    one (at most four words) — some DL2 exports joined several names with spaces."""
    if "\n" in value:
        return split_lines(value)
    value = value.strip()
    return [value] if value and len(value.split()) <= 4 else []


def composite_genres(value: str) -> list[str]:
    """Split on newlines only; a space-joined value cannot be split and is dropped, unless the
    whole value is one genre TMDB knows."""
    if "\n" in value:
        return split_lines(value)
    value = value.strip()
    known = {g.casefold() for g in (*TMDB_MOVIE_GENRES, *TMDB_TV_GENRES)}
    return [value] if value.casefold() in known else []


# --- the CSV (or tab-separated) export ----------------------------------------------------------

CSV_COLUMNS = (
    "item type", "title", "creator", "format", "edition", "platform", "release date",
    "creation date", "ean", "isbn", "amazon link", "rating", "notes", "signed by",
    "signed role", "signed on", "signed at",
)  # fmt: skip
CSV_ALIASES = {"type": "item type", "kind": "item type"}
CSV_SIGNATURE = {"item type", "creator", "ean", "isbn", "amazon link", "creation date",
                 "release date", "signed by", "platform", "edition"}  # fmt: skip


def _csv_rows(data: bytes) -> tuple[dict[int, str], Iterator[list[str]]]:
    text = decode_text(data)
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise _refuse(f"This is not a readable CSV file: {exc}.") from None
    return _csv_columns(header), reader


def _csv_columns(header: list[str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = " ".join(name.replace("_", " ").split()).casefold()
        key = CSV_ALIASES.get(key, key)
        if key in CSV_COLUMNS and key not in mapping.values():
            mapping[index] = key
    names = set(mapping.values())
    if "title" not in names:
        raise _refuse(
            "This is not a Delicious Library export: upload the XML file or the CSV export "
            "(its first row names the columns, one of them Title)."
        )
    if not names & CSV_SIGNATURE:
        raise _refuse(
            "This CSV has none of the Delicious Library columns (Item Type, Creator, EAN, …); "
            "a file in Boxset's own template goes to the CSV import."
        )
    return mapping


def _csv_records_raw(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, values by column) of each non-empty record; header = row 1."""
    mapping, reader = _csv_rows(data)
    try:
        for number, record in enumerate(reader, start=2):
            if any(cell.strip() for cell in record):
                yield number, {mapping[i]: c.strip() for i, c in enumerate(record) if i in mapping}
    except csv.Error as exc:
        raise _refuse(f"This is not a readable CSV file: {exc}.") from None


def _csv_scan(data: bytes) -> int:
    return sum(1 for _ in _csv_records_raw(data))


def _csv_records(data: bytes) -> Iterator[_Record]:
    for number, values in _csv_records_raw(data):
        yield _csv_record(number, values)


def _csv_record(number: int, v: dict[str, str]) -> _Record:
    kind = v.get("item type", "")
    title, platform = v.get("title", ""), v.get("platform", "")
    if kind.casefold().replace(" ", "") in ("videogame", "game") and not platform:
        title, platform = split_platform(title)
    year, release = csv_date(v.get("release date", ""))
    record = _Record(
        row=number, kind="movie" if kind.casefold() in ("", "movie", "movies") else kind,
        title=title, format_text=v.get("format", ""), edition=v.get("edition", ""),
        platform=platform, directors=csv_people(v.get("creator", "")), year=year,
        release_date=release, release_is_set_date=True, user_rating=v.get("rating"),
        upc=gtin(v.get("ean", "")), notes=v.get("notes", ""),
    )  # fmt: skip
    signed = ", ".join(p for p in (_signer(v), v.get("signed on", ""), v.get("signed at", "")) if p)
    _add_common_extras(record, signed=signed)
    _put(record.metadata, asin=asin_from_link(v.get("amazon link", "")),
         isbn=isbn(v.get("isbn", "")), delicious_added=_csv_iso(v.get("creation date", "")),
         barcode=_bad_barcode(v.get("ean", "")))  # fmt: skip
    record.disc_release_date = _csv_iso(v.get("release date", ""))
    return record


def _signer(v: dict[str, str]) -> str:
    name, role = v.get("signed by", ""), v.get("signed role", "")
    return f"{name} ({role})" if name and role else name


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def csv_date(value: str) -> tuple[int | None, date | None]:
    """The CSV's Release Date: ISO `YYYY-MM-DD`, `M/D/YYYY` (day first when the first number
    cannot be a month), or a bare year; anything else gives the last four digits as the year."""
    value = value.strip()
    parts: tuple[int, int, int] | None = None
    if match := _ISO.match(value):
        parts = (int(match[1]), int(match[2]), int(match[3]))
    elif match := _SLASHED.match(value):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        parts = (year, second, first) if first > 12 else (year, first, second)
    if parts:
        try:
            full = date(*parts)
        except ValueError:
            full = None
        year = _plausible_year(parts[0])
        return year, full if year else None
    tail = value[-4:]
    return (_plausible_year(int(tail)) if tail.isdigit() else None), None


def _csv_iso(value: str) -> str:
    year, full = csv_date(value)
    return full.isoformat() if full else (str(year) if year else "")


def csv_people(value: str) -> list[str]:
    """The CSV's Creator: split on newlines and `;`, and on `, ` only when every part has at
    least two words ("Name, Jr." and single names stay whole)."""
    names: list[str] = []
    for part in re.split(r"[\n;]", value):
        pieces = [p.strip() for p in part.split(", ")]
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            names.extend(pieces)
        elif part.strip():
            names.append(part.strip())
    return names


_PLATFORM_TAIL = re.compile(r"^(?P<title>.+?)(?:\s+-\s+(?P<dash>[^-]+)|\s*\((?P<paren>[^()]+)\))$")
_PLATFORM_WORDS = re.compile(
    r"(?i)\b(playstation|ps[1-5p]?|psp|vita|xbox|nintendo|wii|gamecube|game ?boy|gba|n?3?ds|"
    r"switch|pc|mac|windows|sega|dreamcast|genesis|saturn|n64|atari)\b"
)


def split_platform(title: str) -> tuple[str, str]:
    """A game title's trailing platform (` - PlayStation 2`, ` (PS2)`) as (title, platform)."""
    match = _PLATFORM_TAIL.match(title.strip())
    if match:
        platform = (match["dash"] or match["paren"] or "").strip()
        if _PLATFORM_WORDS.search(platform):
            return match["title"].strip(), platform
    return title, ""


def asin_from_link(link: str) -> str:
    match = re.search(r"/(?:dp|gp/product)/([A-Z0-9]{10})(?:[/?#]|$)", link)
    return match.group(1) if match else ""


# --- the mapping: one record to one ImportRow (formats.md A.4) ---------------------------------

TMDB_MOVIE_GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "History", "Horror", "Music", "Mystery", "Romance", "Science Fiction",
    "TV Movie", "Thriller", "War", "Western",
)  # fmt: skip
TMDB_TV_GENRES = (
    "Action & Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Kids", "Mystery", "News", "Reality", "Sci-Fi & Fantasy", "Soap", "Talk",
    "War & Politics", "Western",
)  # fmt: skip
# Amazon nodes that are the same genre under another spelling.
_GENRE_ALIASES = {
    "movie": {"sci-fi": "Science Fiction"},
    "tv_series": {"science fiction & fantasy": "Sci-Fi & Fantasy",
                  "sci-fi & fantasy": "Sci-Fi & Fantasy"},
}  # fmt: skip


def to_row(record: _Record) -> ImportRow:
    """The Boxset row for one record: skipped kinds, or fields validated by the item schema."""
    if record.kind != "movie":
        detail = f"kind not catalogued yet: {record.kind}"
        if record.platform:
            detail += f" (platform {record.platform})"
        return ImportRow(row=record.row, title=record.title or None, skip=detail,
                         source_key=record.uuid, source_kind=_source_kind(record))  # fmt: skip
    title, edition = clean_title(record.title, record.edition)
    boxed = is_boxed_set(title, record)
    tv = is_tv(title, record.genres)
    season = season_number(title) if tv else None
    if tv:
        title = series_title(title)
    return validated_row(
        record.row,
        _fields(record, title=title, edition=edition, tv=tv, boxed=boxed, season=season),
        source_key=record.uuid,
        source_kind=_source_kind(record),
        metadata=_metadata(record, edition=edition, boxed=boxed, tv=tv),
        seasons=[{"season_number": season}] if season is not None else [],
        note=_boxed_note(record) if boxed else None,
    )


def _source_kind(record: _Record) -> str | None:
    return "delicious" if record.uuid else None


def _fields(
    record: _Record, *, title: str, edition: str, tv: bool, boxed: bool, season: int | None
) -> dict[str, Any]:
    """The item fields before validation (A.4); unknown values are left out."""
    media_type = "tv_series" if tv else "movie"
    set_date = _set_release(record, tv=tv, boxed=boxed)
    release = record.release_date.isoformat() if record.release_date and not set_date else None
    raw: dict[str, Any] = {
        "title": title,
        "original_title": None if title == " ".join(record.title.split()) else record.title.strip(),
        "media_type": media_type,
        "format": map_format(record.format_text),
        "year": None if set_date else record.year,
        "release_date": release,
        "runtime": None if tv or boxed else record.minutes,
        "overview": record.overview[:MAX_TEXT] or None,
        "directors": _names(record.directors),
        "cast": _names(record.cast),
        "genres": tmdb_genres(record.genres, media_type),
        "rating": stars_to_ten(record.net_rating),
        "user_rating": owner_rating(record.user_rating),
        "upc": record.upc,
        "season_number": season,
        "location": record.location[:200] or None,
        "notes": _notes(record, edition)[:MAX_TEXT] or None,
    }
    return {k: v for k, v in raw.items() if v not in (None, "", [])}


def _metadata(record: _Record, *, edition: str, boxed: bool, tv: bool) -> dict[str, str]:
    out = dict(record.metadata)
    if record.disc_release_date and (
        not record.release_is_set_date or _set_release(record, tv=tv, boxed=boxed)
    ):
        out["disc_release_date"] = record.disc_release_date
    if boxed:
        discs = _set_discs(record)
        out["boxed_set"] = f"{discs} discs" if discs else "yes"
    if (record.discs or 0) > 1:
        out["discs"] = str(record.discs)
    _put(out, edition=edition, region=_region(record.features + record.genres))
    return out


def _set_release(record: _Record, *, tv: bool, boxed: bool) -> bool:
    """The CSV's only date is the release of what was bought: for a box or TV set that is the
    set's release, not a film's, so it is kept as `disc_release_date` and the year stays empty."""
    return record.release_is_set_date and (tv or boxed)


def _notes(record: _Record, edition: str) -> str:
    lines = [record.notes] if record.notes else []
    if edition:
        lines.append(f"Edition: {edition}")
    lines.extend(record.extra_notes)
    return "\n".join(lines)


def _boxed_note(record: _Record) -> str:
    discs = _set_discs(record)
    return f"boxed set: {discs} discs" if discs else "boxed set"


def _set_discs(record: _Record) -> int | None:
    """A box set's disc count (more than one), from the source or the owner's notes."""
    discs = record.discs
    if not discs and (match := re.search(r"(?i)\b(\d{1,3})[- ]discs?\b", record.notes)):
        discs = int(match.group(1))
    return discs if discs and discs > 1 else None


def _region(values: list[str]) -> str:
    for value in values:
        match = re.search(r"(?i)\bregion ([0-9a-c])\b", value)
        if match:
            return match.group(1).upper()
    return ""


def _add_common_extras(
    record: _Record, *, price: str = "", purchased: str = "", signed: str = "",
    shelves: list[str] | None = None,
) -> None:  # fmt: skip
    """Values with no item field: a line each in the notes, and item metadata."""
    if signed:
        record.extra_notes.append("Signed" if signed == "yes" else f"Signed by {signed}")
    if price:
        record.extra_notes.append(f"Price: {price}")
    if purchased:
        record.extra_notes.append(f"Purchased: {purchased}")
    if shelves:
        record.extra_notes.append("Shelves: " + ", ".join(shelves))
    _put(record.metadata, signed=signed, price=price, purchase_date=purchased,
         shelves=", ".join(shelves or []))  # fmt: skip


def _put(target: dict[str, str], **values: str | None) -> None:
    for key, value in values.items():
        if value and value.strip():
            target[key] = value.strip()[:2000]


# --- titles, kinds and sets ----------------------------------------------------------------------

_BRACKET_TAIL = re.compile(r"^(?P<title>.*?\S)\s*[\[(](?P<inner>[^\[\]()]+)[\])]\s*$")
_EDITION_WORDS = re.compile(
    r"(?i)\b(blu-?ray|dvd|hd[- ]dvd|vhs|4k|uhd|ultra hd|widescreen|full ?screen|pan (&|and) "
    r"scan|edition|special|collector'?s?|director'?s cut|final cut|theatrical cut|extended|"
    r"unrated|uncut|remaster(ed)?|anniversary|region \w+|ntsc|pal|digital|import|\d+[- ]?discs?|"
    r"deluxe|limited|steelbook|criterion|two-disc|single-disc|multi-format)\b"
)
_FORMAT_ONLY = re.compile(r"(?i)^(blu-?ray|dvd|hd[- ]dvd|vhs|vhs tape|4k( ultra hd)?|uhd|digital)"
                          r"( ?[+/&] ?(blu-?ray|dvd|digital( copy)?))*$")  # fmt: skip


def clean_title(raw: str, edition: str) -> tuple[str, str]:
    """(title, edition): trailing format/edition brackets (`[Blu-ray]`, `(Special Edition)`)
    and a trailing `: X` / ` - X` that repeats the edition come off the title; removed words
    that are not just a format join the edition. Brackets that belong to the title stay."""
    title, edition = " ".join(raw.split()), " ".join(edition.split())
    removed: list[str] = []
    while match := _BRACKET_TAIL.match(title):
        inner = match["inner"].strip()
        if not (_EDITION_WORDS.search(inner) or _same_edition(inner, edition)):
            break
        title = match["title"].rstrip(" -:,")
        removed.append(inner)
    for sep in (": ", " - ", " \u2013 "):
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and edition and _same_edition(tail, edition):
            title = head.strip()
            break
    extra = [p for p in reversed(removed) if not _FORMAT_ONLY.match(p)]
    extra = [p for p in extra if not _same_edition(p, edition)]
    return title, "; ".join(p for p in (edition, *extra) if p)


def _same_edition(text: str, edition: str) -> bool:
    def norm(value: str) -> str:
        value = re.sub(r"(?i)\bedition\b", "", value)
        return re.sub(r"\W+", "", value).casefold()

    return bool(edition) and norm(text) == norm(edition) and bool(norm(text))


_TV = re.compile(r"(?i)\b(complete (series|season)|season \d+|series \d+|the complete .* season)\b")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth")  # fmt: skip
_SPELLED = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_SEASON = re.compile(
    r"(?i)\b(?:season|series)\s+(\d{1,3}|" + "|".join(_SPELLED) + r")\b"
    r"|\b(" + "|".join(_ORDINALS) + r")\s+season\b"
)


def is_tv(title: str, genres: list[str]) -> bool:
    """Delicious had no TV kind: a season or series set is a movie with such a title or a
    Television/TV genre node."""
    return bool(_TV.search(title)) or any(g.casefold() in ("television", "tv") for g in genres)


def season_number(title: str) -> int | None:
    match = _SEASON.search(title)
    if not match:
        return None
    if match.group(2):
        return _ORDINALS.index(match.group(2).casefold()) + 1
    value = match.group(1).casefold()
    return int(value) if value.isdigit() else _SPELLED.index(value) + 1


def series_title(title: str) -> str:
    """The series name: the text before ` - ` (or `: `) when what follows names the set."""
    for sep in (" - ", " \u2013 ", ": "):
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and _TV.search(tail):
            return head.strip()
    match = _TV.search(title)
    if match and not title[match.end() :].strip(" )]"):
        head = title[: match.start()].rstrip(" -:,([")
        head = re.sub(r"(?i)\s*\bthe$", "", head).strip()
        if head:
            return head
    return title


_BOXED_TITLE = re.compile(r"(?i)\b(collection|trilogy|box(ed)? set|complete series)\b")


def is_boxed_set(title: str, record: _Record) -> bool:
    """A box set (A.4): a `Box set` feature or `Boxed Set` genre node, a title naming a
    collection, or notes listing what it includes. A disc count alone is not a signal."""
    if any(f.casefold() in ("box set", "boxed set") for f in record.features):
        return True
    if any(g.casefold() == "boxed set" for g in record.genres):
        return True
    if _BOXED_TITLE.search(title):
        return True
    return any(line.strip().casefold().startswith("includes:") for line in record.notes.split("\n"))


# --- values ---------------------------------------------------------------------------------------


_FORMAT_WORDS = (
    (("4k", "uhd", "ultra hd"), "4K UHD"),
    (("blu",), "Blu-ray"),
    (("hd dvd", "hd-dvd"), "Other"),
    (("dvd",), "DVD"),
    (("vhs",), "VHS"),
    (("laser",), "LaserDisc"),
    (("digital", "kindle", "download"), "Digital"),
)


def map_format(text: str) -> str | None:
    """Delicious's binding/format words to a Boxset format (the first match in this order)."""
    value = _first_line(text).casefold()
    if not value:
        return None
    for words, name in _FORMAT_WORDS:
        if any(word in value for word in words):
            return name
    return "Other"


def gtin(value: str) -> str | None:
    """A barcode as digits only (spaces, dashes and dots dropped); a 12-digit UPC-A gets the
    leading zero of its EAN-13 form so one product has one value whatever the source wrote."""
    digits = re.sub(r"[\s.\-]", "", value)
    if not digits.isdigit() or not 6 <= len(digits) <= 14:
        return None
    return "0" + digits if len(digits) == 12 else digits


def _bad_barcode(value: str) -> str:
    """A barcode that is not one keeps its raw text as metadata."""
    return value.strip() if value.strip() and gtin(value) is None else ""


def isbn(value: str) -> str:
    digits = re.sub(r"[^0-9Xx]", "", value).upper()
    return digits if len(digits) in (10, 13) else ""


def stars_to_ten(value: float | None) -> float | None:
    """Amazon's 0-5 stars on Boxset's 0-10 scale; 0 (or nonsense) is no rating."""
    if value is None or not 0 < value <= 5:
        return None
    return round(value * 2, 1)


def owner_rating(value: Any) -> float | str | None:
    """The owner's 0-5 stars as 0-10 (a value already above 5 and at most 10 is taken as is);
    empty or 0 is unrated. Text that is not a number goes to the schema, which reports it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _float_or_none(value)
    if number is None:
        return str(value)
    if number == 0:
        return None
    return round(number * 2, 1) if 0 < number <= 5 else number


def tmdb_genres(nodes: list[str], media_type: str) -> list[str]:
    """Amazon browse nodes mix genres with store categories (`Widescreen`, `1990 - 1999`,
    `US & CA DVDs: Region 1`): keep only the names TMDB uses for this kind of item."""
    names = TMDB_TV_GENRES if media_type == "tv_series" else TMDB_MOVIE_GENRES
    known = {name.casefold(): name for name in names}
    known.update(_GENRE_ALIASES.get(media_type, {}))
    return list(dict.fromkeys(known[n.casefold()] for n in nodes if n.casefold() in known))


def split_lines(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\r", "\n").split("\n") if part.strip()]


def _first_line(value: str) -> str:
    lines = split_lines(value)
    return lines[0] if lines else ""


def _names(names: list[str]) -> list[str]:
    unique = dict.fromkeys(n for n in names if 0 < len(n) <= 300)
    return list(unique)[:MAX_NAMES]


def _plausible_year(year: int) -> int | None:
    return year if 1888 <= year <= 2100 else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _count(value: Any) -> int | str | None:
    """Minutes and counts: 0 or empty is unknown; text that is not a number goes to the schema."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _int_or_none(value)
    if number is None:
        return str(value)
    return number or None
