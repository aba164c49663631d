"""WSGI entry point for gunicorn (production). Refuses to serve an out-of-date schema."""

from __future__ import annotations

import sys

from config import ConfigError

try:
    from app import create_app
    from app.services.database import SchemaOutOfDate, ensure_schema_current

    app = create_app()
    ensure_schema_current(app)
    if app.config["HUEY_IN_PROCESS"]:
        app.logger.warning(
            "REDIS_URL is not set: jobs queue in %s and need `flask boxset worker` running",
            app.config["HUEY_SQLITE_PATH"],
        )
except (ConfigError, SchemaOutOfDate) as exc:
    print(f"Boxset cannot start: {exc}", file=sys.stderr)
    sys.exit(3)
