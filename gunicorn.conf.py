"""Gunicorn settings for the Boxset container: `gunicorn -c gunicorn.conf.py wsgi:app`.

Tuned through the environment: PORT (5000), WEB_CONCURRENCY (2 processes) and
GUNICORN_THREADS (4 threads each). Every process keeps its own database pool and, without
Redis, its own rate-limit counters.
"""

from __future__ import annotations

import os


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(
            f"Boxset cannot start: {name} must be a whole number, got {raw!r}"
        ) from None
    if value < 1:
        raise SystemExit(f"Boxset cannot start: {name} must be at least 1, got {value}")
    return value


# All interfaces inside the container; the published port decides who can reach it.
bind = f"0.0.0.0:{_positive_int('PORT', 5000)}"
workers = _positive_int("WEB_CONCURRENCY", 2)
threads = _positive_int("GUNICORN_THREADS", 4)
worker_class = "gthread"

# A request that takes longer than this is killed; graceful_timeout is how long a worker may
# finish its requests after SIGTERM (compose gives the container 45 s before SIGKILL).
timeout = 60
graceful_timeout = 30
keepalive = 5

# The app logs one line per request itself (with request id and user), so no access log.
accesslog = None
errorlog = "-"
loglevel = "info"

# Forwarded headers are the app's business: ProxyFix trusts exactly TRUST_PROXY hops.
# Gunicorn itself trusts nobody, so it never rewrites the scheme from a client's header.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# Heartbeat files on tmpfs: a slow or full disk must not make the arbiter kill workers.
_SHM = "/dev/shm"  # noqa: S108 - tmpfs in every container, not a shared temp directory
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
# Nothing in the container uses gunicornc; do not create a control socket in $HOME.
control_socket_disable = True
proc_name = "boxset"
