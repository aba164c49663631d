"""`make test`: the whole suite on PostgreSQL (a throwaway database) and then on SQLite.

PostgreSQL is `TEST_POSTGRES_URL` (default: the local server, database `test`) used only to
create and drop `boxset_test_<random>`. With CI=true an unreachable PostgreSQL or Redis fails
the run; locally that pass is skipped with a warning.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _fail_or_warn(message: str) -> bool:
    if IN_CI:
        print(f"error: {message} (CI=true: required)", file=sys.stderr)
        sys.exit(1)
    print(f"warning: {message}; skipping that part", file=sys.stderr)
    return False


def _postgres_available() -> bool:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error as exc:
        return _fail_or_warn(f"PostgreSQL at {ADMIN_URL} is unreachable: {exc}")


def _redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return True
    except redis.RedisError as exc:
        return _fail_or_warn(f"Redis at {REDIS_URL} is unreachable: {exc}")


def _pytest(database_url: str, label: str, extra: list[str]) -> int:
    env = dict(os.environ)
    env["TEST_DATABASE_URL"] = database_url
    env["TEST_POSTGRES_URL"] = ADMIN_URL
    env["TEST_REDIS_URL"] = REDIS_URL
    print(f"\n=== Boxset test suite on {label} ===", flush=True)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *extra]
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    if code == 5:  # pytest found no tests: that is a failure, not a pass
        print("error: no tests were collected", file=sys.stderr)
        return 1
    return code


def run_postgres(extra: list[str]) -> int:
    if not _postgres_available():
        return 0
    name = f"boxset_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        return _pytest(f"{base}/{name}", f"PostgreSQL ({name})", extra)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_sqlite(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="boxset-sqlite-") as tmp:
        return _pytest(f"sqlite:///{tmp}/boxset.db", "SQLite", extra)


def main(argv: list[str]) -> int:
    which = argv[0] if argv and argv[0] in {"postgres", "sqlite"} else "all"
    extra = argv[1:] if which != "all" else argv
    _redis_available()
    results = []
    if which in {"all", "postgres"}:
        results.append(run_postgres(extra))
    if which in {"all", "sqlite"}:
        results.append(run_sqlite(extra))
    failed = [code for code in results if code != 0]
    return failed[0] if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
