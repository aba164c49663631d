"""Cover-photo OCR with OCR.space (formats.md E) and the title candidates taken from its text.

OCR of cover art is unreliable: present the candidates, never create items from them.
"""

from __future__ import annotations

import io
import re
from typing import Any

from app.providers.http import (
    SLOW_TIMEOUT,
    HttpOptions,
    ProviderError,
    ProviderHTTP,
    ProviderNotConfigured,
    probe,
    setting,
)

PROVIDER = "OCR.space"
DEFAULT_URL = "https://api.ocr.space/parse/image"
MAX_CANDIDATES = 12
_FILETYPES = {"image/jpeg": "JPG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
_EXTENSIONS = {"JPG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}


class VisionClient:
    """Sends an image to an OCR.space-compatible endpoint (the key in the `apikey` header)."""

    def __init__(
        self,
        api_key: str | None,
        api_url: str | None = None,
        *,
        language: str = "eng",
        options: HttpOptions | None = None,
    ) -> None:
        self.api_key = (api_key or "").strip()
        self.language = language
        self.http = ProviderHTTP(
            PROVIDER,
            api_url or DEFAULT_URL,
            default_timeout=SLOW_TIMEOUT,
            options=options,
            headers={"Accept": "application/json"},
            auth_headers={"apikey": self.api_key} if self.api_key else {},
        )

    @classmethod
    def from_settings(cls, settings: Any, *, options: HttpOptions | None = None) -> VisionClient:
        """From the effective settings: a VisionSettings (`api_url`, `api_key`) or the flat
        integration keys (`vision_api_url`, `vision_api_key`)."""
        return cls(
            setting(settings, "vision_api_key", "api_key"),
            setting(settings, "vision_api_url", "api_url"),
            options=options,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> VisionClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def recognize(self, image: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
        """`{text, title_candidates, detail}`. An image the engine could not read gives empty
        text and a `detail` saying why (not an error: the photo is the problem); a refused
        request or a failed service raises ProviderError. The user's file name is not sent.
        A free OCR.space key takes at most 1 MB: pass the image through `shrink_image`."""
        if not self.api_key:
            raise ProviderNotConfigured(PROVIDER, "has no API key configured")
        filetype = _FILETYPES.get(content_type, "JPG")
        name = f"cover{_EXTENSIONS[filetype]}"
        response = self.http.request(
            "POST",
            files={"file": (name, image, content_type)},
            data={
                "language": self.language,
                "isOverlayRequired": "false",
                "filetype": filetype,
                "scale": "true",
            },
        )
        result = parse_result(response.json())
        result["title_candidates"] = title_candidates(result["text"])
        return result

    def test(self) -> dict[str, Any]:
        """For the integration Test button: OCR of a small generated image."""
        return probe(
            lambda: self.recognize(_test_image(), "image/png"),
            lambda result: (
                f"{PROVIDER} accepted the key"
                + (f" and read {result['text'][:40]!r}." if result["text"] else ".")
            ),
        )


def _messages(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v)
    return str(value) if value else ""


def parse_result(body: Any) -> dict[str, Any]:
    """`{text, detail}` from an OCR.space answer (formats.md E.2): text of every parsed
    page joined. Request errors (exit codes 4 and 99, no results) raise ProviderError; a page
    the engine could not read (exit code 3) leaves `text` empty with `detail`."""
    if not isinstance(body, dict):
        raise ProviderError(
            PROVIDER, "sent an answer Boxset does not understand", kind="invalid_response"
        )
    exit_code = body.get("OCRExitCode")
    results = body.get("ParsedResults")
    pages = [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []
    text = "\n".join(
        r["ParsedText"] for r in pages if isinstance(r.get("ParsedText"), str)
    ).replace("\r\n", "\n")
    error = _messages(body.get("ErrorMessage")) + " " + _messages(body.get("ErrorDetails"))
    error = " ".join(error.split())[:300]
    if str(exit_code) in ("1", "2") or (pages and not body.get("IsErroredOnProcessing")):
        detail = None
        if str(exit_code) == "2":
            detail = "Only part of the image was read" + (f": {error}" if error else ".")
        return {"text": text.strip(), "detail": detail}
    if str(exit_code) == "3" and pages:
        return {
            "text": text.strip(),
            "detail": f"{PROVIDER} could not read the image" + (f": {error}" if error else "."),
        }
    reason = "could not process the image" + (f" ({error})" if error else "")
    raise ProviderError(PROVIDER, reason, kind="failed")


def title_candidates(text: str, limit: int = MAX_CANDIDATES) -> list[str]:
    """Lines worth searching for (earlier-implementation.md 1.8): unique (ignoring case),
    3 to 90 characters, with a letter, not only digits; at most `limit`, in reading order."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in re.split(r"\r\n|\r|\n", text or ""):
        line = " ".join(raw.split())
        if not 3 <= len(line) <= 90:
            continue
        if not re.search(r"[^\W\d_]", line) or line.replace(" ", "").isdigit():
            continue
        key = line.casefold()
        if key in seen:
            continue
        seen.add(key)
        out.append(line)
        if len(out) >= limit:
            break
    return out


def shrink_image(data: bytes, max_bytes: int = 1_000_000) -> tuple[bytes, str]:
    """(bytes, content type) of an image small enough for the OCR service: as it is when it
    fits, else re-encoded as JPEG and scaled down until it does. Raises ValueError for a
    file that is not a readable image (or a decompression bomb)."""
    if len(data) <= max_bytes:
        kind = _sniff(data)
        if kind:
            return data, kind
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise ValueError("not a readable image") from None
    longest = 2400
    while True:
        picture.thumbnail((longest, longest))
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=85)
        if out.tell() <= max_bytes or longest <= 400:
            return out.getvalue(), "image/jpeg"
        longest = int(longest * 0.75)


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _test_image() -> bytes:
    """A small PNG with dark text on white, generated (no file to ship)."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (360, 90), "white")
    ImageDraw.Draw(picture).text((20, 30), "BOXSET TEST", fill="black")
    picture = picture.resize((720, 180))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
