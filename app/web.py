"""HTTP plumbing shared by every request: request ids and logging, security headers,
proxy handling, input guards and CSRF for cookie-authenticated API calls."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Request, Response, g, request
from flask_login import current_user
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import ClosingIterator

from app.errors import AppError, Invalid, MalformedRequest, NotFound, PayloadTooLarge
from app.extensions import csrf

REQUEST_ID_ENV = "boxset.request_id"
USER_ID_ENV = "boxset.user_id"
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
INT32_MAX = 2**31 - 1

request_log = logging.getLogger("boxset.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_logging(log_format: str) -> None:
    """Send logs to stdout, one line each (JSON lines with LOG_FORMAT=json): Boxset's own at
    INFO, everything else (Flask-AppBuilder, SQLAlchemy, huey, …) at WARNING, in one format."""
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    for name, level in (("boxset", logging.INFO), ("", logging.WARNING)):
        logger = logging.getLogger(name)
        handler = next((h for h in logger.handlers if getattr(h, "_boxset", False)), None)
        if handler is None:
            handler = logging.StreamHandler(sys.stdout)
            handler._boxset = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
        handler.setFormatter(formatter)
        logger.setLevel(level)
    logging.getLogger("boxset").propagate = False


class RequestLogMiddleware:
    """Outermost WSGI layer: assigns the request id, times the request and logs one line."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if _REQUEST_ID_OK.match(offered) else uuid.uuid4().hex
        environ[REQUEST_ID_ENV] = request_id
        seen: dict[str, int] = {"status": 500}

        def _start_response(status: str, headers: list, exc_info: Any = None):
            seen["status"] = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        def _log() -> None:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            fields = {
                "method": environ.get("REQUEST_METHOD"),
                # never the query string (it may hold keys); control characters escaped
                "path": _safe_path(environ.get("PATH_INFO")),
                "status": seen["status"],
                "duration_ms": duration_ms,
                "request_id": request_id,
                "user_id": environ.get(USER_ID_ENV),
            }
            request_log.info(
                "%(method)s %(path)s %(status)s %(duration_ms)sms "
                "rid=%(request_id)s user=%(user_id)s",
                fields,
                extra={"fields": fields},
            )

        try:
            body = self.wsgi_app(environ, _start_response)
        except BaseException:
            _log()
            raise
        return ClosingIterator(body, [_log])


class NonJsonBody(BadRequest):
    """A BadRequest (so Flask-AppBuilder's `@safe` answers 400, not 500) with our error code."""

    boxset_code = "malformed_request"

    def __str__(self) -> str:
        return str(self.description)


class BoxsetRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            raise NonJsonBody("Send the body as JSON with Content-Type: application/json.")
        raise NonJsonBody("The body is not valid JSON.")


def _csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _content_security_policy() -> str:
    nonce = g.get("csp_nonce")
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: https://image.tmdb.org",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


MAX_JSON_DEPTH = 64


class _TooDeep(Exception):
    pass


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without what no database column can hold (NUL, lone UTF-16 surrogates)."""
    return _UNSTORABLE.sub("", text)


def _has_nul(value: Any) -> bool:
    """NUL or a lone UTF-16 surrogate anywhere in a JSON document: neither can be stored or
    hashed. Iterative; refuses documents nested too deeply."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_JSON_DEPTH:
            raise _TooDeep
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _safe_path(path: str | None) -> str | None:
    """The path with control characters escaped, so it cannot forge log lines."""
    if path is None:
        return None
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in path)


def _out_of_range_id(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return False
    return isinstance(value, int) and not -INT32_MAX <= value <= INT32_MAX


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def init_web(app: Flask) -> None:
    app.request_class = BoxsetRequest
    app.url_map.merge_slashes = False  # "/api//x" is a 404, not an HTML redirect
    hops = app.config["TRUST_PROXY"]
    if hops:
        # Client address and scheme only: a proxy that forwards Host/Prefix headers unchecked
        # would otherwise let clients choose redirect targets.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.wsgi_app = RequestLogMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    app.jinja_env.globals["csp_nonce"] = _csp_nonce

    @app.before_request
    def _request_context() -> None:
        g.request_id = request.environ.get(REQUEST_ID_ENV) or uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.before_request
    def _api_input_guard() -> None:
        if not _is_api():
            return
        length = request.content_length
        if length is not None and length > app.config["MAX_CONTENT_LENGTH"]:
            raise PayloadTooLarge(
                f"The request body is larger than {app.config['MAX_UPLOAD_MB']} MB."
            )
        if any(_out_of_range_id(v) for v in (request.view_args or {}).values()):
            raise NotFound()
        body = None
        if request.is_json and request.method in _UNSAFE_METHODS and request.get_data(cache=True):
            try:
                body = json.loads(request.get_data(cache=True))
            except (ValueError, RecursionError):
                raise MalformedRequest("The body is not valid JSON.") from None
        args = [part for key, values in request.args.lists() for part in (key, *values)]
        try:
            if _has_nul(body) or _has_nul(args):
                raise Invalid("Text must not contain NUL characters or lone surrogates.")
        except _TooDeep:
            raise MalformedRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None

    @app.before_request
    def _api_csrf() -> None:
        """Cookie-authenticated API writes need the CSRF token in a header; bearer calls don't."""
        if (
            _is_api()
            and request.method in _UNSAFE_METHODS
            and "Authorization" not in request.headers
            and current_user.is_authenticated
            and app.config.get("WTF_CSRF_ENABLED", True)
        ):
            csrf.protect()

    @app.after_request
    def _response_headers(response: Response) -> Response:
        user = g.get("user")
        if user is not None and getattr(user, "is_authenticated", False):
            request.environ[USER_ID_ENV] = getattr(user, "id", None)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        headers.setdefault("Content-Security-Policy", _content_security_policy())
        if app.config.get("PRODUCTION"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if _is_api():
            headers.setdefault("Cache-Control", "no-store")
            if request.method == "OPTIONS" and response.status_code == 200:
                response.status_code = 204  # Flask's automatic OPTIONS: no HTML body on /api
                response.set_data(b"")
                response.headers.pop("Content-Type", None)
        return response


__all__ = ["AppError", "configure_logging", "init_web"]
