"""Rate limits per endpoint class, on Flask-AppBuilder's own limiter.

Each API class names its classes in `rate_limits` (`[(class, methods or None), ...]`); every
`/api` blueprint also shares the `global` budget. Values come from `RATE_LIMIT_<CLASS>_MAX` per
`RATE_LIMIT_WINDOW_MINUTES`, stored in Redis when REDIS_URL is set (shared by all app
containers), in memory otherwise (per process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, current_app
from flask_limiter import Limiter

GLOBAL_SCOPE = "api-global"
RateLimitSpec = tuple[str, Sequence[str] | None]


def limiter() -> Limiter:
    return current_app.appbuilder.sm.limiter


def limit_value(kind: str) -> Callable[[], str]:
    """A limit string read at request time, so configuration changes need no code."""

    def value() -> str:
        cfg = current_app.config
        return f"{cfg['RATE_LIMITS'][kind]} per {cfg['RATE_LIMIT_WINDOW_MINUTES']} minutes"

    return value


def apply_rate_limits(app: Flask) -> None:
    """Attach the global and per-class limits to every registered API blueprint."""
    appbuilder = app.appbuilder
    lim = appbuilder.sm.limiter
    shared_global = lim.shared_limit(limit_value("global"), scope=GLOBAL_SCOPE)
    for view in appbuilder.baseviews:
        blueprint = getattr(view, "blueprint", None)
        route_base = getattr(view, "route_base", "") or ""
        if blueprint is None or not route_base.startswith("/api"):
            continue
        if getattr(view, "rate_limit_exempt", False):
            lim.exempt(blueprint)
            continue
        shared_global(blueprint)
        for kind, methods in getattr(view, "rate_limits", ()) or ():
            lim.limit(limit_value(kind), methods=list(methods) if methods else None)(blueprint)
