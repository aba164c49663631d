"""The error hierarchy and the one place it is turned into responses.

`/api/*` answers `{"message": ..., "code": ...}` (plus `request_id` on 5xx); pages get a
friendly template. Nothing internal (exception text, SQL, paths) reaches a client.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("boxset.errors")

STATUS_CODES: dict[int, str] = {
    400: "validation_failed",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "service_unavailable",
}

DEFAULT_MESSAGES: dict[int, str] = {
    400: "The request is invalid.",
    401: "Sign in to continue.",
    403: "You are not allowed to do that.",
    404: "Not found.",
    405: "That method is not allowed here.",
    409: "That conflicts with the current state.",
    413: "The request body is too large.",
    415: "That content type is not supported.",
    429: "Too many requests; slow down and try again shortly.",
    500: "Something went wrong on our side. The request id identifies it in the server log.",
    502: "An upstream service failed.",
    503: "The service is unavailable.",
}


class AppError(Exception):
    """Base of every error a service or view raises on purpose."""

    status = 400
    code = "validation_failed"

    def __init__(self, message: Any = None, *, code: str | None = None, status: int | None = None):
        self.message = message if message is not None else DEFAULT_MESSAGES.get(self.status)
        if code:
            self.code = code
        if status:
            self.status = status
        super().__init__(self.message if isinstance(self.message, str) else self.code)


class Invalid(AppError):
    status, code = 400, "validation_failed"


class MalformedRequest(AppError):
    status, code = 400, "malformed_request"


class NotAuthenticated(AppError):
    status, code = 401, "not_authenticated"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"


class UpstreamError(AppError):
    status, code = 502, "upstream_error"


class FeatureDisabled(AppError):
    status, code = 503, "feature_disabled"


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def error_payload(status: int, message: Any, code: str) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "code": code}
    if status >= 500:
        body["request_id"] = getattr(g, "request_id", None)
    return body


def render_error(status: int, message: Any, code: str, headers: dict[str, str] | None = None):
    if wants_json():
        response = jsonify(error_payload(status, message, code))
    else:
        text = message if isinstance(message, str) else DEFAULT_MESSAGES.get(status, "Error")
        html = render_template(
            "boxset/error.html",
            status=status,
            message=text,
            request_id=getattr(g, "request_id", None),
        )
        response = Response(html, mimetype="text/html")
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_message(exc: HTTPException) -> str:
    status = exc.code or 500
    if status == 404:
        return (
            f"No such endpoint: {request.method} {request.path}" if wants_json() else "Not found."
        )
    if status == 405:
        return f"{request.method} is not allowed on {request.path}."
    return DEFAULT_MESSAGES.get(status, exc.name)


def _rollback() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the database may be the thing that failed
        log.warning("rollback after an error failed", exc_info=True)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        _rollback()  # nothing a failed request half-did may be committed later
        return render_error(exc.status, exc.message, exc.code)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        _rollback()
        status = exc.code or 500
        headers = {}
        if status == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        if status == 429:  # Flask-Limiter adds Retry-After and the X-RateLimit-* headers
            return render_error(429, DEFAULT_MESSAGES[429], "rate_limited", headers)
        own_code = getattr(exc, "boxset_code", None)
        if own_code:
            return render_error(status, str(exc.description), own_code, headers)
        return render_error(status, _http_message(exc), STATUS_CODES.get(status, "error"), headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error (request id %s)", getattr(g, "request_id", "-"))
        _rollback()
        return render_error(500, DEFAULT_MESSAGES[500], "internal_error")

    @app.after_request
    def _api_error_shape(response: Response) -> Response:
        """Give Flask-AppBuilder's own error answers (`{"message": ...}`) our `code` field."""
        if response.status_code < 400 or not wants_json() or not response.is_json:
            return response
        if response.direct_passthrough:
            return response
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return response
        if isinstance(body, dict) and "code" not in body and ("message" in body or "msg" in body):
            status = response.status_code
            if "message" not in body:
                body = {"message": body["msg"]}
            if status >= 500:
                # FAB's @safe returns the exception text in some 500s; never show it.
                body["message"] = DEFAULT_MESSAGES[500]
            body.update(error_payload(status, body["message"], STATUS_CODES.get(status, "error")))
            response.set_data(json.dumps(body))
        return response
