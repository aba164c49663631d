"""GET /api/health: liveness, build metadata and the state of the database and queue."""

from __future__ import annotations

import logging

from flask import current_app
from flask_appbuilder.api import BaseApi, expose
from sqlalchemy import text

from app.extensions import db
from app.jobs import queue_health

log = logging.getLogger("boxset.health")


def database_health() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means degraded
        log.warning("database health check failed: %s", type(exc).__name__)
        db.session.rollback()
        return "unreachable"
    return "ok"


class HealthApi(BaseApi):
    resource_name = "health"
    route_base = "/api/health"
    openapi_spec_tag = "Health"
    rate_limit_exempt = True

    @expose("", methods=["GET"])
    def health(self):
        """Service health and build metadata (no sign-in needed).
        ---
        get:
          summary: Service health and build metadata
          security: []
          responses:
            200:
              description: Every part is working
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Health'
            503:
              description: A part (database or queue) is unreachable
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Health'
        """
        parts = {"database": database_health(), "queue": queue_health()}
        healthy = all(state == "ok" for state in parts.values())
        cfg = current_app.config
        body = {
            "status": "ok" if healthy else "degraded",
            "version": cfg["APP_VERSION"],
            "git_sha": cfg["GIT_SHA"],
            "build_date": cfg["BUILD_DATE"],
            **parts,
        }
        return self.response(200 if healthy else 503, **body)

    def add_apispec_components(self, api_spec):
        super().add_apispec_components(api_spec)
        api_spec.components.schema(
            "Health",
            {
                "type": "object",
                "required": ["status", "version", "git_sha", "build_date", "database", "queue"],
                "properties": {
                    "status": {"type": "string", "enum": ["ok", "degraded"]},
                    "version": {"type": "string"},
                    "git_sha": {"type": "string"},
                    "build_date": {"type": "string"},
                    "database": {"type": "string", "enum": ["ok", "unreachable"]},
                    "queue": {"type": "string", "enum": ["ok", "unreachable"]},
                },
            },
        )
