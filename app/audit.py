"""Request outcomes in the activity log (`AUDIT_LOG_MODE`) and audited denials."""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.services import activity
from app.session_store import request_info

log = logging.getLogger("boxset.audit")
_MUTATIONS = {"POST", "PUT", "PATCH", "DELETE"}


def _wanted(mode: str, method: str, status: int) -> bool:
    if mode == "off":
        return False
    if mode == "all":
        return True
    if mode == "mutations":
        return status >= 400 or method in _MUTATIONS
    return status >= 400  # failures (the default)


def _error_summary(response: Response) -> str | None:
    if response.status_code < 400 or not response.is_json or response.direct_passthrough:
        return None
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    text = message if isinstance(message, str) else json.dumps(message)[:300]
    return f"{body.get('code', '')}: {text}"[:500]


def init_audit(app: Flask) -> None:
    @app.after_request
    def _record_outcome(response: Response) -> Response:
        path = request.path
        if not (path == "/api" or path.startswith("/api/")) or path == "/api/health":
            return response
        status = response.status_code
        if not _wanted(app.config["AUDIT_LOG_MODE"], request.method, status):
            return response
        actor = g.get("actor")
        if actor is None and current_user.is_authenticated:
            actor = current_user._get_current_object()
        space_id = None
        if actor is not None:
            from app.services import tenancy

            space_id, _library = tenancy.active_scope_ids(actor)
        if status == 403 and g.get("csrf_failed"):
            action = "security.csrf_failed"
        elif status == 403:
            action = "security.access_denied"
        else:
            action = "request.failed" if status >= 400 else "request.succeeded"
        started = g.get("request_started")
        activity.record_now(
            action,
            actor=actor,
            space_id=space_id,
            entity_type="http_request",
            details={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
                "error": _error_summary(response),
            },
            info=request_info(request),
        )
        return response

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError):
        from app.errors import render_error

        g.csrf_failed = True
        if app.config["AUDIT_LOG_MODE"] == "off":
            # Denials are security events: recorded even when request auditing is off.
            activity.record_now(
                "security.csrf_failed",
                entity_type="http_request",
                details={"method": request.method, "path": request.path, "reason": exc.description},
                info=request_info(request),
            )
        return render_error(403, "The CSRF token is missing or invalid.", "csrf_failed")
