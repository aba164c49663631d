"""Barcode lookup: UPCitemdb (default) or barcodelookup.com, and the title clean-up that turns
a product name ("Blade Runner (The Final Cut) [Blu-ray] 2-Disc Special Edition") into titles
worth searching TMDB for (formats.md D).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.errors import Invalid
from app.providers.http import (
    DEFAULT_TIMEOUT,
    HttpOptions,
    ProviderError,
    ProviderHTTP,
    ProviderNotFound,
    probe,
    setting,
)

TEST_UPC = "012569828708"  # the fixed code the earlier implementation's Test button used
_UPCITEMDB_TRIAL = "https://api.upcitemdb.com/prod/trial/lookup"
_UPCITEMDB_PAID = "https://api.upcitemdb.com/prod/v1/lookup"


@dataclass(frozen=True)
class Preset:
    key: str
    name: str  # as shown in messages
    url: str
    query_param: str


PRESETS: dict[str, Preset] = {
    "upcitemdb": Preset("upcitemdb", "UPCitemdb", _UPCITEMDB_TRIAL, "upc"),
    "barcodelookup": Preset(
        "barcodelookup", "Barcode Lookup", "https://api.barcodelookup.com/v3/products", "barcode"
    ),
}


class InvalidBarcode(Invalid, ValueError):
    """Not 8 to 14 digits. A ValueError, and an AppError the API answers with 400."""

    def __init__(self, reason: str) -> None:
        super().__init__({"upc": [reason]})
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def normalise_upc(value: Any) -> str:
    """Digits only (spaces and dashes dropped); 8 to 14 of them (UPC-E/EAN-8 … GTIN-14)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InvalidBarcode("A barcode is a string of 8 to 14 digits.")
    text = re.sub(r"[\s-]", "", str(value))
    if not text.isdigit() or not text.isascii():
        raise InvalidBarcode("A barcode contains only digits (spaces and dashes are ignored).")
    if not 8 <= len(text) <= 14:
        raise InvalidBarcode("A barcode has 8 to 14 digits.")
    return text


class BarcodeClient:
    """Looks a barcode up with one preset.

    UPCitemdb: without a key, the free trial endpoint (100 lookups a day); with a key, the
    paid `/prod/v1/lookup` endpoint with `user_key`/`key_type` headers (a key configured with
    the default trial URL moves to the paid URL). barcodelookup.com: its `key` query
    parameter. `api_url` overrides the preset's URL (mirrors, tests).
    """

    def __init__(
        self,
        preset: str | None = "upcitemdb",
        api_url: str | None = None,
        api_key: str | None = None,
        *,
        options: HttpOptions | None = None,
    ) -> None:
        if (preset or "upcitemdb") not in PRESETS:
            raise ValueError(f"unknown barcode preset {preset!r}")
        self.preset = PRESETS[preset or "upcitemdb"]
        self.api_key = (api_key or "").strip()
        url = (api_url or self.preset.url).strip()
        headers = {"Accept": "application/json"}
        auth_headers: dict[str, str] = {}
        auth_params: dict[str, str] = {}
        if self.preset.key == "upcitemdb" and self.api_key:
            if url.rstrip("/").endswith("/prod/trial/lookup"):
                url = url.rstrip("/")[: -len("/prod/trial/lookup")] + "/prod/v1/lookup"
            auth_headers = {"user_key": self.api_key, "key_type": "3scale"}
        elif self.preset.key == "barcodelookup" and self.api_key:
            auth_params = {"key": self.api_key}
        self.http = ProviderHTTP(
            self.preset.name,
            url,
            default_timeout=DEFAULT_TIMEOUT,
            options=options,
            headers=headers,
            auth_headers=auth_headers,
            auth_params=auth_params,
        )

    @classmethod
    def from_settings(cls, settings: Any, *, options: HttpOptions | None = None) -> BarcodeClient:
        """From the effective settings: a BarcodeSettings (`preset`, `api_url`, `api_key`) or
        the flat integration keys (`barcode_preset`, `barcode_api_url`, `barcode_api_key`)."""
        return cls(
            setting(settings, "barcode_preset", "preset") or "upcitemdb",
            setting(settings, "barcode_api_url", "api_url"),
            setting(settings, "barcode_api_key", "api_key"),
            options=options,
        )

    @property
    def provider(self) -> str:
        return self.preset.key

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> BarcodeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def lookup(self, upc: Any) -> dict[str, Any]:
        """`{upc, provider, matches: [{title, description, image, search_titles, format,
        season_number}]}`. An unknown code gives no matches; a bad one raises
        InvalidBarcode; a provider failure raises ProviderError (ProviderRateLimited with
        `retry_after` when a daily quota is used up)."""
        code = normalise_upc(upc)
        if self.preset.key == "barcodelookup" and not self.api_key:
            raise ProviderError(self.preset.name, "needs an API key", kind="not_configured")
        try:
            body = self.http.get_json(params={self.preset.query_param: code})
        except ProviderNotFound:
            body = {}
        return {"upc": code, "provider": self.preset.key, "matches": parse_matches(body)}

    def test(self) -> dict[str, Any]:
        """For the integration Test button: `{ok, authenticated, status, detail}` (a lookup of
        a fixed code; no match is still a success)."""

        def describe(result: dict[str, Any]) -> str:
            found = len(result["matches"])
            return f"{self.preset.name} answered ({found} match{'es' if found != 1 else ''})."

        return probe(lambda: self.lookup(TEST_UPC), describe)


# ---------------------------------------------------------------------------- parsing


def _first_text(item: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = item.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _image(item: Mapping[str, Any]) -> str | None:
    images = item.get("images")
    if isinstance(images, list):
        for url in images:
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                return url
    url = _first_text(item, "image", "image_url")
    return url if url and url.startswith(("https://", "http://")) else None


def parse_matches(body: Any, limit: int = 6) -> list[dict[str, Any]]:
    """Matches from a UPCitemdb (`items`) or barcodelookup.com (`products`) answer;
    an empty answer (`total: 0`, no items) is simply no matches."""
    if not isinstance(body, dict):
        return []
    items = body.get("items")
    if items is None:
        items = body.get("products")
    matches: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        title = _first_text(item, "title", "product_name", "name")
        if not title:
            continue
        category = _first_text(item, "category") or ""
        matches.append(
            {
                "title": title,
                "description": _first_text(item, "description", "brand", "manufacturer"),
                "image": _image(item),
                "search_titles": search_titles(title),
                "format": guess_format(f"{title} {category} {_first_text(item, 'format') or ''}"),
                "season_number": season_number(title),
            }
        )
        if len(matches) >= limit:
            break
    return matches


# ---------------------------------------------------------------------------- titles

_FORMAT_WORDS = (
    r"4k\s*ultra\s*hd|ultra\s*hd|uhd|4k|blu[\s-]?ray(?:\s*3d)?|bluray|hd[\s-]?dvd|dvd"
    r"|vhs(?:\s*tape)?|laser\s*disc|digital\s*(?:copy|hd|code)"
)
_EDITION_WORDS = (
    r"(?:\d+|two|three|four|five|single|double)[\s-]*dis[ck]s?(?:\s*set)?"
    r"|(?:(?:\d+(?:st|nd|rd|th)\s*)?anniversary|special|collector'?s|limited|deluxe|ultimate"
    r"|definitive|extended|unrated|theatrical|director'?s|criterion|remastered|restored"
    r"|standard|platinum|diamond|signature|gift|bonus|widescreen|full[\s-]?screen)"
    r"(?:\s+(?:edition|cut|version|pack|set))+"
    r"|widescreen|full[\s-]?screen|steelbook|slipcover|remastered|combo\s*pack|box\s*set"
    r"|region\s*(?:free|[a-c1-8])|ntsc|pal|edition"
)
_NOISE = re.compile(rf"\b(?:{_FORMAT_WORDS}|{_EDITION_WORDS})\b", re.IGNORECASE)
_BRACKETED = re.compile(r"\[[^\]]*\]|\{[^}]*\}")
_PARENS = re.compile(r"\(([^()]*)\)")
_TAIL = re.compile(
    r"\s*(?:[+&]|\b(?:with|w/|includes?|incl\.?|plus)\b)\s*"
    r"(?:digital|dvd|blu|ultra\s*hd|ultraviolet|bonus|\w+\s+copy).*$",
    re.IGNORECASE,
)
_SET_TAIL = re.compile(
    r"\s*[-:]?\s*(?:the\s+)?(?:complete\s+)?(?:collection|trilogy|quadrilogy|saga|anthology)$",
    re.IGNORECASE,
)
_EDGE = " \t-\u2013\u2014:/|,+&"  # hyphen, en and em dash, ...
_NUMBER_WORDS = {
    word: number
    for number, words in enumerate(
        [
            ("one", "first"),
            ("two", "second"),
            ("three", "third"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
            ("ten", "tenth"),
        ],
        start=1,
    )
    for word in words
}
_NUMBER = r"\d{1,3}|" + "|".join(_NUMBER_WORDS)
_SEASON = re.compile(
    rf"\b(?:season|series)\s+({_NUMBER})\b|\b({_NUMBER})\s+season\b", re.IGNORECASE
)
_SERIES_TAIL = re.compile(
    rf"\s*[-\u2013:,]?\s*(?:the\s+)?complete\s+(?:(?:{_NUMBER})\s+)?(?:season|series)\b.*$"
    rf"|\s*[-\u2013:,]?\s*(?:the\s+)?(?:season|series)\s+(?:{_NUMBER})\b.*$",
    re.IGNORECASE,
)


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    return re.sub(r"\s+", " ", text).strip(_EDGE)


def _strip_noise(text: str) -> str:
    text = _BRACKETED.sub(" ", text)
    text = _TAIL.sub("", text)

    def paren(match: re.Match[str]) -> str:
        rest = _tidy(_NOISE.sub(" ", match.group(1)))
        # A parenthesis of packaging words only goes; one with real words stays for now.
        return f" ({rest}) " if re.search(r"[^\W\d_]{2,}", rest) else " "

    text = _PARENS.sub(paren, text)
    return _tidy(_NOISE.sub(" ", text))


def search_titles(title: str) -> list[str]:
    """Titles to search TMDB with, best first: packaging words gone ("Blu-ray", "DVD",
    "4K Ultra HD", "(Widescreen)", "2-Disc Special Edition", "Region 1", "+ Digital Copy"),
    for a TV set the series name without "The Complete First Season", then without any
    remaining parenthesis, with it, the part before a colon or " - ", and without a trailing
    "Collection"/"Trilogy"."""
    cleaned = _strip_noise(title or "")
    bare = _tidy(_PARENS.sub(" ", cleaned))
    candidates: list[str] = []

    def add(text: str) -> None:
        text = _tidy(text)
        known = {c.casefold() for c in candidates}
        if len(text) >= 2 and re.search(r"[^\W_]", text) and text.casefold() not in known:
            candidates.append(text)

    series = _SERIES_TAIL.sub("", bare)
    if series != bare:
        add(series)
    add(bare)
    add(cleaned)
    for separator in (": ", " - ", " \u2013 "):
        head = bare.split(separator)[0]
        if head != bare and len(head.strip()) >= 3:
            add(head)
    add(_SET_TAIL.sub("", bare))
    return candidates


def guess_format(text: str) -> str | None:
    """Boxset format from a product title/category: 4K before Blu-ray before DVD."""
    low = (text or "").lower()
    if re.search(r"\b(4k|uhd)\b|ultra\s*hd", low):
        return "4K UHD"
    if re.search(r"blu[\s-]?ray|\bbluray\b", low):
        return "Blu-ray"
    if re.search(r"hd[\s-]?dvd", low):
        return "Other"
    if re.search(r"\bdvd\b", low):
        return "DVD"
    if re.search(r"\bvhs\b", low):
        return "VHS"
    if "laserdisc" in low or "laser disc" in low:
        return "LaserDisc"
    if re.search(r"\bdigital\b", low):
        return "Digital"
    return None


def season_number(title: str) -> int | None:
    """ "Season 2", "Series 3", "The Complete Sixth Season" → the number."""
    match = _SEASON.search(title or "")
    if not match:
        return None
    word = (match.group(1) or match.group(2)).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
