"""Serve Boxset: `python run.py` (what `make run` does) or `flask --app run ...` for commands."""

from __future__ import annotations

import logging
import signal
import sys

from config import ConfigError


def _create():
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        print(f"Boxset cannot start: {exc}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    from waitress import serve

    from app.jobs import start_in_process_consumer
    from app.services.database import SchemaOutOfDate, ensure_schema_current

    application = _create()
    try:
        ensure_schema_current(application)
    except SchemaOutOfDate as exc:
        print(f"Boxset cannot start: {exc}", file=sys.stderr)
        sys.exit(3)
    start_in_process_consumer(application)
    host, port = application.config["HOST"], application.config["PORT"]
    logging.getLogger("boxset").info("Boxset listening on http://%s:%s", host, port)
    signal.signal(signal.SIGTERM, _stop)
    try:
        serve(application, host=host, port=port, threads=8, ident="Boxset")
    except KeyboardInterrupt:
        logging.getLogger("boxset").info("Boxset stopped")
    except (OSError, ValueError) as exc:
        print(f"Boxset cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        sys.exit(2)


def _stop(_signum, _frame) -> None:
    raise KeyboardInterrupt


app = None if __name__ == "__main__" else _create()

if __name__ == "__main__":
    main()
