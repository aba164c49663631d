"""Fake barcode services on one server: UPCitemdb (`/prod/trial/lookup` without a key,
`/prod/v1/lookup` with `user_key` + `key_type: 3scale` headers) and barcodelookup.com
(`/v3/products?barcode=…&key=…`), in their documented shapes (formats.md D; fixtures in
upc/ and barcodelookup/).

Known codes: 085765412237 / 0085765412237 (Blade Runner The Final Cut, Blu-ray). Codes in
`empty_codes` answer 200 with no items; any other code answers 404 NOT_FOUND.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeService, fixture_bytes, fixture_json, json_response

UPCITEMDB_KEY = "upcitemdb-test-key"
BARCODELOOKUP_KEY = "barcodelookup-test-key"
BLADE_RUNNER_UPC = "085765412237"
EMPTY_UPC = "036000291452"  # answers 200 with total 0


def _gtin(code: str) -> str:
    return code.lstrip("0")


class BarcodeFake(FakeService):
    name = "barcode"

    def reset(self) -> None:
        super().reset()
        self.upcitemdb_key = UPCITEMDB_KEY
        self.barcodelookup_key = BARCODELOOKUP_KEY
        ok = fixture_json("upc/lookup_ok.json")["items"][0]
        self.items: dict[str, dict[str, Any]] = {_gtin(BLADE_RUNNER_UPC): ok}
        product = fixture_json("barcodelookup/products_ok.json")["products"][0]
        self.products: dict[str, dict[str, Any]] = {_gtin(BLADE_RUNNER_UPC): product}
        self.empty_codes = {_gtin(EMPTY_UPC)}
        self.daily_limit = 100
        self.used = 0

    @property
    def upcitemdb_url(self) -> str:
        return f"{self.url}/prod/trial/lookup"

    @property
    def upcitemdb_paid_url(self) -> str:
        return f"{self.url}/prod/v1/lookup"

    @property
    def barcodelookup_url(self) -> str:
        return f"{self.url}/v3/products"

    @property
    def base_url(self) -> str:
        return self.upcitemdb_url

    def add_item(self, code: str, title: str, **fields: Any) -> None:
        """Another UPCitemdb item (and barcodelookup product) for `code`."""
        item = {
            "ean": code.zfill(13),
            "title": title,
            "upc": code.zfill(12),
            "description": "",
            "brand": "",
            "category": "Media > DVDs & Videos",
            "images": [],
            "offers": [],
        }
        item.update(fields)
        self.items[_gtin(code)] = item
        self.products[_gtin(code)] = {
            "barcode_number": code,
            "title": title,
            "description": item["description"],
            "category": item["category"],
            "manufacturer": item["brand"],
            "brand": item["brand"],
            "images": item["images"],
            "stores": [],
        }

    def _limits(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(max(self.daily_limit - self.used, 0)),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
        }

    def error_body(self, status: int, request: Request) -> tuple[bytes, str]:
        if request.path.startswith("/v3/"):
            return f"<html><body>Error {status}</body></html>".encode(), "text/html"
        if status == 429:
            return fixture_bytes("upc/lookup_exceed_limit.json"), "application/json"
        if status == 404:
            return fixture_bytes("upc/lookup_not_found.json"), "application/json"
        if status in (401, 403):
            return fixture_bytes("upc/lookup_invalid_key.json"), "application/json"
        # A failing gateway answers HTML (formats.md D.3).
        return f"<html><body><h1>{status} Bad Gateway</h1></body></html>".encode(), "text/html"

    def handle(self, request: Request) -> Response:
        if request.path in ("/prod/trial/lookup", "/prod/v1/lookup"):
            return self._upcitemdb(request, paid=request.path.startswith("/prod/v1"))
        if request.path == "/v3/products":
            return self._barcodelookup(request)
        return Response("<html><body>Not Found</body></html>", 404, content_type="text/html")

    def _upcitemdb(self, request: Request, *, paid: bool) -> Response:
        headers = self._limits()
        if paid and (
            request.headers.get("user_key") != self.upcitemdb_key
            or request.headers.get("key_type") != "3scale"
        ):
            return Response(
                fixture_bytes("upc/lookup_invalid_key.json"),
                401,
                headers=headers,
                content_type="application/json",
            )
        with self.lock:
            exhausted = self.used >= self.daily_limit
            self.used += 0 if exhausted else 1
        if exhausted:
            headers["Retry-After"] = "3600"
            return Response(
                fixture_bytes("upc/lookup_exceed_limit.json"),
                429,
                headers=headers,
                content_type="application/json",
            )
        code = request.args.get("upc", "").strip()
        if not code:
            return json_response(
                {"code": "INVALID_QUERY", "message": "upc is required"}, 400, headers
            )
        item = self.items.get(_gtin(code))
        if item is not None:
            body = {"code": "OK", "total": 1, "offset": 0, "items": [copy.deepcopy(item)]}
            return json_response(body, headers=headers)
        if _gtin(code) in self.empty_codes:
            return json_response(fixture_json("upc/lookup_empty.json"), headers=headers)
        return Response(
            fixture_bytes("upc/lookup_not_found.json"),
            404,
            headers=headers,
            content_type="application/json",
        )

    def _barcodelookup(self, request: Request) -> Response:
        if request.args.get("key") != self.barcodelookup_key:
            return Response(
                "<html><body>Invalid API key</body></html>", 403, content_type="text/html"
            )
        code = request.args.get("barcode", "").strip()
        product = self.products.get(_gtin(code)) if code else None
        if product is None:
            return Response("<html><body>Not Found</body></html>", 404, content_type="text/html")
        return json_response({"products": [copy.deepcopy(product)]})
