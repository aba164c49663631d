"""Fake OCR.space (`POST /parse/image`), answering as the real service does (formats.md E;
fixtures in ocr/): processing errors come back with HTTP 200 in the body; a wrong key gets
a 403 with a body that is not JSON.

An upload whose bytes start with `UNREADABLE` gets the "could not read the image" answer;
`text` replaces the recognised text of the normal answer.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeService, fixture_bytes, fixture_json, json_response

API_KEY = "K81234567888957"  # OCR.space keys look like this


class OcrFake(FakeService):
    name = "ocr"
    prefix = "/parse/image"

    def reset(self) -> None:
        super().reset()
        self.api_key = API_KEY
        self.text: str | None = None  # None: the fixture's Blade Runner cover text

    def error_body(self, status: int, request: Request) -> tuple[bytes, str]:
        return f"<html><body>{status} Error</body></html>".encode(), "text/html"

    def handle(self, request: Request) -> Response:
        if request.path != "/parse/image" or request.method != "POST":
            return Response("Not Found", 404, content_type="text/html")
        key = request.headers.get("apikey") or request.form.get("apikey")
        if key != self.api_key:
            return Response(
                "The API key is invalid or has not been activated yet.",
                403,
                content_type="text/plain",
            )
        upload = request.files.get("file")
        sources = [
            upload is not None,
            bool(request.form.get("url")),
            bool(request.form.get("base64Image")),
        ]
        if sum(sources) != 1:
            return json_response(fixture_json("ocr/parse_error.json"))
        if upload is not None and upload.stream.read(10) == b"UNREADABLE":
            return Response(fixture_bytes("ocr/parse_failed.json"), content_type="application/json")
        body = fixture_json("ocr/parse_ok.json")
        if self.text is not None:
            body["ParsedResults"][0]["ParsedText"] = self.text
        return json_response(body)
