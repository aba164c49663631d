"""Flask session interface backed by `user_sessions`.

Signed-in browsers carry only an opaque random token (`boxset_session`); the session lives in
the database, so any app container can serve any request. Visitors who are not signed in get a
small signed cookie (`boxset_anon`) for the login form's CSRF token and flash messages, so
anonymous traffic never writes rows. Every sign-in issues a new token (no session fixation);
signing out deletes the row.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from flask_login import user_logged_in
from itsdangerous import BadSignature
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from app.extensions import db
from app.services import sessions as session_service
from app.services.context import RequestInfo

ANON_COOKIE = "boxset_anon"


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Session data as plain JSON (flash messages may be lazy translation strings)."""
    return json.loads(json.dumps(data, default=str))


class ServerSession(CallbackDict, SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        row_id: int | None = None,
        user_id: int | None = None,
        stale_cookie: bool = False,
    ) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True
            session.accessed = True

        super().__init__(initial, on_update)
        self.row_id = row_id
        self.loaded_user_id = user_id
        self.stale_cookie = stale_cookie
        self.rotate = False
        self.modified = False
        self.accessed = False


def request_info(req: Request) -> RequestInfo:
    from flask import g

    return RequestInfo(
        ip=req.remote_addr,
        user_agent=req.headers.get("User-Agent"),
        request_id=g.get("request_id"),
    )


class DatabaseSessionInterface(SessionInterface):
    def __init__(self) -> None:
        self._anon = SecureCookieSessionInterface()

    def _cookie_options(self, app: Flask) -> dict[str, Any]:
        return {
            "httponly": True,
            "secure": app.config["SESSION_COOKIE_SECURE"],
            "samesite": app.config["SESSION_COOKIE_SAMESITE"],
            "path": "/",
        }

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        if request.path.startswith("/static/"):
            return None  # assets need no session (Flask uses a null session)
        raw = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if raw:
            try:
                row = session_service.find_session(raw)
            except SQLAlchemyError:
                # Database down: serve the request signed out (health still answers 503)
                # rather than fail before any view runs. The cookie is kept for later.
                db.session.rollback()
                return ServerSession()
            if row is not None:
                if session_service.touch(row):
                    try:
                        db.session.commit()
                    except SQLAlchemyError:  # "last seen" is best effort; never fail a request
                        db.session.rollback()
                data = dict(row.data or {})
                data["_user_id"] = str(row.user_id)
                session = ServerSession(data, row_id=row.id, user_id=row.user_id)
                db.session.expunge(row)
                return session
            return ServerSession(stale_cookie=True)
        return ServerSession(self._load_anonymous(app, request))

    def _load_anonymous(self, app: Flask, request: Request) -> dict[str, Any]:
        value = request.cookies.get(ANON_COOKIE)
        serializer = self._anon.get_signing_serializer(app)
        if not value or serializer is None:
            return {}
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except BadSignature:
            return {}
        data.pop("_user_id", None)  # identity only ever comes from a database session
        return data

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            return
        name = app.config["SESSION_COOKIE_NAME"]
        options = self._cookie_options(app)
        user_id = session.get("_user_id")
        if user_id is not None:
            self._save_signed_in(app, session, response, int(user_id), name, options)
            return
        if session.row_id is not None:  # signed out
            session_service.end_session(session.row_id)
            db.session.commit()
            response.delete_cookie(name, path="/")
        elif session.stale_cookie:
            response.delete_cookie(name, path="/")
        self._save_anonymous(app, session, response, options)

    def _save_signed_in(
        self,
        app: Flask,
        session: ServerSession,
        response: Response,
        user_id: int,
        name: str,
        options: dict[str, Any],
    ) -> None:
        data = {k: v for k, v in session.items() if k != "_user_id"}
        if session.row_id is None or session.rotate or user_id != session.loaded_user_id:
            if session.row_id is not None:
                session_service.end_session(session.row_id)
            data = _json_safe(data)
            row, raw = session_service.create_session(
                user_id,
                info=request_info(request),
                ttl_days=app.config["SESSION_TTL_DAYS"],
                max_per_user=app.config["SESSION_MAX_PER_USER"],
                data=data,
            )
            db.session.commit()
            response.set_cookie(name, raw, expires=row.expires_at, **options)
            if ANON_COOKIE in request.cookies:
                response.delete_cookie(ANON_COOKIE, path="/")
            response.vary.add("Cookie")
        elif session.modified:
            from app.models.accounts import UserSession

            row = db.session.get(UserSession, session.row_id)
            if row is not None:
                row.data = _json_safe(data)
                db.session.commit()

    def _save_anonymous(
        self, app: Flask, session: ServerSession, response: Response, options: dict[str, Any]
    ) -> None:
        data = {k: v for k, v in session.items() if k != "_user_id"}
        if not data:
            if ANON_COOKIE in request.cookies:
                response.delete_cookie(ANON_COOKIE, path="/")
            return
        if not session.modified and ANON_COOKIE in request.cookies:
            return
        serializer = self._anon.get_signing_serializer(app)
        if serializer is None:
            return
        response.set_cookie(
            ANON_COOKIE,
            serializer.dumps(_json_safe(data)),
            max_age=int(app.permanent_session_lifetime.total_seconds()),
            **options,
        )
        response.vary.add("Cookie")


def _rotate_on_login(_app: Flask, user: Any, **_extra: Any) -> None:
    from flask import session

    if isinstance(session, ServerSession):
        session.rotate = True
        session.pop("csrf_token", None)  # a new CSRF token after sign-in


def init_sessions(app: Flask) -> None:
    app.session_interface = DatabaseSessionInterface()
    user_logged_in.connect(_rotate_on_login, app)
