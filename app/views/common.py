"""What every Boxset API shares: who is calling, request info for the services, input schemas
and JSON answers in the api.md envelope."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, jsonify, request
from flask_appbuilder.api import BaseApi
from flask_login import current_user
from marshmallow import Schema, ValidationError

from app.errors import Invalid, MalformedRequest, NotAuthenticated, PayloadTooLarge
from app.models.accounts import BoxsetUser
from app.schemas.accounts import SpaceArgsSchema
from app.services import tenancy
from app.services.context import RequestInfo
from app.services.tenancy import Scope
from app.session_store import ServerSession
from app.session_store import request_info as request_info_of
from app.web import storable


def resolve_actor() -> BoxsetUser | None:
    """The signed-in user: a database session cookie, or `Authorization: Bearer <API key>`."""
    if "actor" in g:
        return g.actor
    sm = current_app.appbuilder.sm
    actor = None
    key = sm.extract_api_key_from_request()
    if key is not None:
        user = sm.validate_api_key(key)
        actor = user if user is not None and user.is_active else None
        g.auth_method = "api_key"
    elif "Authorization" not in request.headers and current_user.is_authenticated:
        actor = current_user._get_current_object()
        g.auth_method = "session"
    g.actor = actor
    return actor


def require_actor() -> BoxsetUser:
    actor = resolve_actor()
    if actor is None:
        raise NotAuthenticated("Sign in, or send an API key as `Authorization: Bearer …`.")
    return actor


def authenticated(fn: Callable) -> Callable:
    """The endpoint needs a signed-in caller; `g.actor` is then the user."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        require_actor()
        return fn(*args, **kwargs)

    wrapper._boxset_authenticated = True  # type: ignore[attr-defined]
    return wrapper


def current_session_id() -> int | None:
    from flask import session

    return session.row_id if isinstance(session, ServerSession) else None


def request_info() -> RequestInfo:
    return request_info_of(request)


def load_json(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """Validate the JSON body with a marshmallow schema (structured 400 on failure)."""
    if not request.data:
        body = {}
    elif not request.is_json:
        raise MalformedRequest("Send the body as JSON with Content-Type: application/json.")
    else:
        body = request.get_json()
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    try:
        return schema.load(body, partial=partial)
    except ValidationError as exc:
        raise Invalid(exc.messages) from None


def load_args(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise Invalid(exc.messages) from None


def read_upload(field: str, noun: str) -> tuple[bytes, str | None]:
    """The multipart file in `field` and its name; missing: 400, over the upload limit: 413
    (read at most one byte past the limit, never the whole body)."""
    upload = request.files.get(field)
    if upload is None:
        raise Invalid({field: [f"Send the {noun} as multipart field `{field}`."]})
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The {noun} is larger than {limit // 2**20} MB.")
    return data, storable(upload.filename or "") or None  # the name is stored with a job


def space_scope() -> Scope:
    """The active space, or the `?space_id=` the request names (another household's: 404)."""
    space_id = load_args(SpaceArgsSchema()).get("space_id")
    return tenancy.resolve_scope(require_actor(), space_id=space_id)


def one(result: dict[str, Any], status: int = 200):
    response = jsonify({"id": result.get("id"), "result": result})
    response.status_code = status
    return response


def many(results: list[dict[str, Any]], count: int | None = None, **extra: Any):
    return jsonify({"count": len(results) if count is None else count, "result": results, **extra})


def no_content():
    return "", 204


class BoxsetApi(BaseApi):
    """Base of Boxset's JSON APIs (documented in the OpenAPI document)."""

    allow_browser_login = True
    rate_limits: list = []

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs):
        """Document that `@authenticated` endpoints need an API key (or a browser session)."""
        super().operation_helper(
            path=path, operations=operations, methods=methods, func=func, **kwargs
        )
        if func is not None and getattr(func, "_boxset_authenticated", False):
            for method in methods or ():
                operation = (operations or {}).get(method.lower())
                if operation is not None and "security" not in operation:
                    operation["security"] = [{"api_key": []}]
