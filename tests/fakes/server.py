"""A small threaded HTTP server for fake providers, and the base class they share.

Each fake is a WSGI app (werkzeug) served on 127.0.0.1 on a free port in a background thread.
Every fake records the requests it received and can be scripted: "the next N calls answer
429 with Retry-After", "answer 500", "wait 2 s first", or a canned body for one path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None):
    return Response(
        json.dumps(body),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )


@dataclass
class RecordedRequest:
    """What a fake received. `headers` has the names as sent, lower-cased."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() on arrival

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Scripted:
    """One scripted answer, used for the next `remaining` matching requests."""

    remaining: int
    path: str | None = None  # prefix; None matches every path
    status: int | None = None  # None: answer normally (after `delay`)
    delay: float = 0.0
    retry_after: float | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        return self.remaining > 0 and (self.path is None or path.startswith(self.path))


class FakeService:
    """Base of the fakes: recording, scripting and dispatch to `handle()`."""

    name = "fake"
    prefix = ""  # the provider's base path, e.g. "/3" for TMDB

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.url = ""  # set by FakeServer: http://127.0.0.1:port
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget requests and scripts; back to the default credentials and data."""
        with self.lock:
            self.requests: list[RecordedRequest] = []
            self._script: list[Scripted] = []
            self._overrides: dict[str, Scripted] = {}
            self.delay = 0.0  # seconds before every answer

    @property
    def base_url(self) -> str:
        """The URL a client is configured with."""
        return self.url + self.prefix

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        *,
        path: str | None = None,
        retry_after: float | None = None,
        body: bytes | str | Any = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The next `count` requests (to paths starting with `path`) answer `status`, with
        the provider's usual error body unless `body` is given."""
        with self.lock:
            self._script.append(
                Scripted(
                    remaining=count,
                    path=path,
                    status=status,
                    retry_after=retry_after,
                    body=_as_bytes(body),
                    content_type=content_type,
                    headers=dict(headers or {}),
                )
            )

    def delay_next(self, seconds: float, count: int = 1, *, path: str | None = None) -> None:
        """The next `count` requests wait `seconds` before answering normally."""
        with self.lock:
            self._script.append(Scripted(remaining=count, path=path, delay=seconds))

    def override(
        self,
        path: str,
        body: bytes | str | Any,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        count: int = 10**9,
    ) -> None:
        """Answer `path` (exactly) with this body until reset (or `count` times)."""
        with self.lock:
            self._overrides[path] = Scripted(
                remaining=count,
                path=path,
                status=status,
                body=_as_bytes(body),
                content_type=content_type,
                headers=dict(headers or {}),
            )

    # ------------------------------------------------------------------ inspection

    def calls(self, path: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path.startswith(path)]

    # ------------------------------------------------------------------ hooks for subclasses

    def handle(self, request: Request) -> Response:
        return Response("not found", status=404)

    def error_body(self, status: int, request: Request) -> tuple[bytes, str]:
        """The provider's usual body for a scripted failure."""
        return f"error {status}".encode(), "text/plain"

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: v for k, v in request.args.items()},
            headers={
                k.lower(): v for k, v in environ.get("fake.raw_headers") or request.headers.items()
            },
            body=request.get_data(cache=True),
            at=time.monotonic(),
        )
        if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            record.form = {k: v for k, v in request.form.items()}
            for name, upload in request.files.items():
                data = upload.read()
                upload.stream.seek(0)
                record.files[name] = {
                    "filename": upload.filename,
                    "content_type": upload.content_type,
                    "size": len(data),
                    "data": data,
                }
        with self.lock:
            self.requests.append(record)
            rule = next((s for s in self._script if s.matches(request.path)), None)
            if rule is not None:
                rule.remaining -= 1
            override = self._overrides.get(request.path)
            if override is not None and override.remaining > 0:
                override.remaining -= 1
            else:
                override = None
            delay = self.delay
        if rule is not None and rule.delay:
            time.sleep(rule.delay)
        if delay:
            time.sleep(delay)
        if rule is not None and rule.status is not None:
            response = self._scripted(rule, request)
        elif override is not None:
            response = Response(
                override.body or b"",
                status=override.status,
                headers=override.headers,
                content_type=override.content_type,
            )
        else:
            response = self.handle(request)
        return response(environ, start_response)

    def _scripted(self, rule: Scripted, request: Request) -> Response:
        status = rule.status or 500
        if rule.body is not None:
            body, content_type = rule.body, rule.content_type or "application/json"
        else:
            body, content_type = self.error_body(status, request)
        response = Response(body, status=status, content_type=content_type)
        if rule.retry_after is not None:
            response.headers["Retry-After"] = f"{rule.retry_after:g}"
        for key, value in rule.headers.items():
            response.headers[key] = value
        return response


def _as_bytes(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


class _QuietHandler(WSGIRequestHandler):
    """No access log: the fakes' request lines carry keys in query strings, and tests
    assert that no log record contains a key. Headers with underscores (UPCitemdb's
    `user_key`, `key_type`) are kept: werkzeug drops them, the real gateways do not."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["fake.raw_headers"] = list(self.headers.items())  # names exactly as sent
        for key, value in self.headers.items():
            if "_" in key:
                environ[f"HTTP_{key.upper().replace('-', '_')}"] = value
        return environ

    def log(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def log_request(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def log_error(self, *_args: Any, **_kwargs: Any) -> None:
        pass


class FakeServer:
    """Serves one fake on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, app: FakeService) -> None:
        self.app = app
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeServer:
        self._server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.app.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{self.app.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeService:
        self.start()
        return self.app

    def __exit__(self, *_exc: object) -> None:
        self.stop()
