"""Cover images: checked by content (not by name or declared type), re-encoded, and stored with
a thumbnail for the grid."""

from __future__ import annotations

import io
import uuid
import warnings

from PIL import Image, UnidentifiedImageError

from app.errors import PayloadTooLarge, UnsupportedMediaType
from app.services.storage import storage

ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
FULL_HEIGHT = 1500
THUMB_SIZE = (300, 450)
TMDB_IMAGE_BASE = "https://image.tmdb.org/t/p/w500"


def _encode(image: Image.Image, size: tuple[int, int] | None) -> bytes:
    picture = image.convert("RGB")
    if size is not None:
        picture.thumbnail(size, Image.Resampling.LANCZOS)
    elif picture.height > FULL_HEIGHT:
        ratio = FULL_HEIGHT / picture.height
        picture = picture.resize((max(1, int(picture.width * ratio)), FULL_HEIGHT))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def store_cover(data: bytes, max_bytes: int) -> tuple[str, str]:
    """Validate and store an uploaded cover; returns (cover_key, url)."""
    if len(data) > max_bytes:
        raise PayloadTooLarge("The image is larger than the upload limit.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                probe.verify()
            if kind not in ACCEPTED:
                raise UnsupportedMediaType("Covers must be JPEG, PNG, WebP or GIF images.")
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise PayloadTooLarge("The image has too many pixels.")
                image.seek(0)
                full, thumb = _encode(image, None), _encode(image, THUMB_SIZE)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge("The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedMediaType("That file is not a readable image.") from None
    name = uuid.uuid4().hex
    key = f"covers/{name}.jpg"
    store = storage()
    store.save(key, full, "image/jpeg")
    store.save(thumb_key(key), thumb, "image/jpeg")
    return key, store.url(key)


def thumb_key(key: str) -> str:
    return key[: -len(".jpg")] + "-thumb.jpg"


def cover_urls(cover_key: str | None, cover_url: str | None) -> tuple[str | None, str | None]:
    """(cover_url, thumb_url) for an item: our stored cover, else a provider URL (TMDB poster
    paths such as "/abc.jpg" go through TMDB's image base)."""
    if cover_key:
        store = storage()
        return store.url(cover_key), store.url(thumb_key(cover_key))
    if cover_url and cover_url.startswith("/"):
        full = f"{TMDB_IMAGE_BASE}{cover_url}"
        return full, full.replace("/w500/", "/w300/")
    return cover_url, cover_url
