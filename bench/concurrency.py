"""The concurrency run of `make bench`: gunicorn as docker-compose.yml runs it, many clients.

After the PostgreSQL catalog is seeded, `gunicorn -c gunicorn.conf.py wsgi:app` starts with the
environment of docker-compose.yml and the Dockerfile (APP_ENV=production, gthread,
WEB_CONCURRENCY=2 processes x GUNICORN_THREADS=4 threads, Secure cookies, rate limits counted
in Redis when one answers), bound to 127.0.0.1 on a free port. Once /api/health answers 200
and every worker has loaded the app, N clients browse for S seconds after a warm-up during
which they arrive one after another (over 80% of it), as users do, not in one burst.

Each client is a thread with its own keep-alive `http.client` connection and its own signed-in
browser session (a `boxset_session` cookie, created in the database as a sign-in would). The
load is *closed-loop*: a client sends its next request when the previous answer is read plus
a pause (`think_ms` on average, exponentially distributed: a person looking at the answer).
With no pause the clients keep the server saturated and the mean latency is simply
clients / throughput (Little's law), a measure of capacity rather than of responsiveness.
`http.client` keeps the generator's own CPU cost small: it shares the machine with gunicorn
and PostgreSQL, so the report gives the CPU time each of them used.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 100.0
# The rate limits stay on (counted per request, as in production) but so high that one
# address sending every client's requests cannot run out of its budget during the run.
RATE_LIMIT_BUDGET = "1000000"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

# The browsing mix: what the library page and the API clients ask for, with weights.
MIX = {
    "list_first_page": 20,  # the library page opens: first 60 by title
    "list_scroll": 25,  # infinite scroll: the next pages by cursor
    "list_other_sort": 8,  # year / added / rating sorts
    "list_media_type": 4,  # Movies / TV / Other navigation
    "search": 10,
    "filter": 15,  # genre + years, director, actor, resolution, rating range
    "detail": 18,  # one item
}


# --- preparing: sessions and the request pool (in-process, before gunicorn starts) ---------------


def prepare(app, seeded: dict[str, Any], clients: int, rng: random.Random) -> dict[str, Any]:
    """Browser sessions for the clients, and the URLs of each kind of request."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.media import Media
    from app.models.tenancy import Library
    from app.services import sessions as session_service
    from app.services.context import NO_REQUEST

    with app.app_context():
        user_id = seeded["user_id"]
        tokens = []
        for _ in range(clients):
            _row, raw = session_service.create_session(
                user_id, info=NO_REQUEST, ttl_days=1, max_per_user=clients
            )
            tokens.append(raw)
        db.session.commit()
        libraries = list(db.session.scalars(select(Library.id).order_by(Library.id)))
        max_id = db.session.scalar(select(Media.id).order_by(Media.id.desc()).limit(1))
        db.session.remove()

    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], tokens[0])
    urls: dict[str, list[str]] = defaultdict(list)
    for library in libraries:
        base = f"/api/media?library_id={library}&limit=60"
        first = f"{base}&sort_by=title&sort_dir=asc"
        urls["list_first_page"].append(first)
        cursor = client.get(first).json["next_cursor"]
        for _ in range(30):  # the first 30 pages of scrolling, cursor by cursor
            if not cursor:
                break
            url = f"{first}&cursor={quote(cursor)}"
            urls["list_scroll"].append(url)
            cursor = client.get(url).json["next_cursor"]
        for sort in ("year&sort_dir=desc", "created_at&sort_dir=desc", "rating&sort_dir=desc"):
            urls["list_other_sort"].append(f"{base}&sort_by={sort}")
        for media_type in ("movie", "tv", "other"):
            urls["list_media_type"].append(f"{first}&media_type={media_type}")
        for term in ("golden river", "night", "the king", "storm", seeded["actor"][:9]):
            urls["search"].append(f"{first}&search={quote(term)}")
        for query in (
            "genre=drama&year_min=1990&year_max=2000",
            "genre=comedy",
            f"director={quote(seeded['director'])}",
            f"actor={quote(seeded['actor'])}",
            "resolution=4k",
            "rating_min=7&rating_max=8.5",
        ):
            urls["filter"].append(f"/api/media?library_id={library}&{query}")
    urls["detail"] = [f"/api/media/{rng.randint(1, max_id)}" for _ in range(500)]
    for kind, pool in urls.items():
        status = client.get(pool[0]).status_code
        if status != 200:
            raise RuntimeError(f"bench: {kind} request {pool[0]} answered {status}")
    return {"tokens": tokens, "urls": dict(urls), "cookie": app.config["SESSION_COOKIE_NAME"]}


# --- gunicorn ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_reachable(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:  # any failure means: run without Redis
        return False
    return True


def compose_environment(database_url: str, data_dir: str, port: int) -> dict[str, str]:
    """The app service's environment from docker-compose.yml (+ the Dockerfile's ENV), with
    this machine's database and Redis, fresh secrets and the rate-limit budgets raised."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "RATE_LIMIT_", "SESSION_", "FEATURE_FLAG", "S3_"))
        and k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "APP_ENV", "TRUST_PROXY"}
    }
    env.update(
        {
            # Dockerfile
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "APP_ENV": "production",
            "DATA_DIR": data_dir,
            "PORT": str(port),
            # docker-compose.yml x-boxset-env defaults
            "SECRET_KEY": secrets.token_urlsafe(48),
            "INTEGRATION_ENCRYPTION_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": "true",
            "TRUST_PROXY": "0",
            "AUDIT_LOG_MODE": "failures",
            "LOG_FORMAT": "text",
            "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
            "GUNICORN_THREADS": os.environ.get("GUNICORN_THREADS", "4"),
            "RATE_LIMIT_ENABLED": "true",
            "RATE_LIMIT_GLOBAL_MAX": RATE_LIMIT_BUDGET,
            "RATE_LIMIT_MEDIA_READ_MAX": RATE_LIMIT_BUDGET,
            "STORAGE_PROVIDER": "local",
        }
    )
    if _redis_reachable(REDIS_URL):
        env["REDIS_URL"] = REDIS_URL
    return env


def _die_with_parent() -> None:
    """In the child: SIGTERM when the bench process dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Gunicorn:
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self, timeout: float = 60.0) -> None:
        self.port = int(self.env["PORT"])
        command = [
            sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{self.port}", "wsgi:app",
        ]  # fmt: skip
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the bench, which stops gunicorn itself
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/health")
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.status == 200:
                    self._wait_for_workers(deadline)
                    return
                if response.status != 503:
                    raise RuntimeError(f"/api/health answered {response.status}: {body[:300]!r}")
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not become healthy in {timeout:.0f} s:\n{self.tail()}")

    def _wait_for_workers(self, deadline: float) -> None:
        """Every worker has loaded the app (its CPU time stands still): otherwise the first
        one up accepts every client's keep-alive connection and keeps it for the whole run."""
        workers = int(self.env.get("WEB_CONCURRENCY", "1"))
        previous: list[float | None] = []
        while time.monotonic() < deadline:
            pids = self.pids()[1:]
            current = [_cpu_seconds(pid) for pid in pids]
            settled = len(previous) == len(current) and all(
                a is not None and b is not None and b - a <= 0.02
                for a, b in zip(previous, current, strict=True)
            )
            if len(pids) >= workers and settled:
                return
            previous = current
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn's {workers} workers did not all start:\n{self.tail()}")

    def pids(self) -> list[int]:
        """The arbiter and its workers."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [pid, *map(int, children)]

    def stop(self) -> int | None:
        """SIGTERM (graceful, as `docker stop`), then SIGKILL to the group after 35 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return process.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _machine_busy() -> tuple[float, float] | None:
    """(busy, total) seconds of all cores since boot."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


def _postgres_backends(database_url: str) -> list[int]:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [r[0] for r in rows]


@dataclass
class CpuSnapshot:
    at: float
    bench: float
    processes: dict[int, float | None]
    machine: tuple[float, float] | None

    @classmethod
    def take(cls, pids: list[int]) -> CpuSnapshot:
        return cls(
            time.perf_counter(),
            time.process_time(),
            {pid: _cpu_seconds(pid) for pid in pids},
            _machine_busy(),
        )


def _cpu_used(before: CpuSnapshot, after: CpuSnapshot, pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        start, end = before.processes.get(pid), after.processes.get(pid)
        if start is not None and end is not None:
            total += end - start
    return total


# --- the clients -------------------------------------------------------------------------------


@dataclass
class ClientLog:
    # kind, start (perf_counter), ms, status
    samples: list[tuple[str, float, float, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0


def _client(
    port: int,
    cookie: str,
    urls: dict[str, list[str]],
    seed: int,
    start: threading.Event,
    delay: float,
    warmup_until: list[float],
    stop_at: list[float],
    think_ms: float,
    log: ClientLog,
) -> None:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    headers = {"Cookie": cookie, "Accept": "application/json", "User-Agent": "boxset-bench"}
    conn: http.client.HTTPConnection | None = None
    start.wait()
    if delay > 0:  # users arrive one after another during the warm-up, not all at once
        time.sleep(delay)
    while True:
        now = time.perf_counter()
        if now >= stop_at[0]:
            break
        kind = rng.choices(kinds, weights)[0]
        url = rng.choice(urls[kind])
        started = time.perf_counter()
        status, body, problem = 0, b"", ""
        for attempt in (1, 2):
            fresh = conn is None
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
                if response.will_close:
                    conn.close()
                    conn = None
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                # A kept-alive connection the server had closed: reconnect once, as browsers do.
                conn.close()
                conn = None
                if fresh or attempt == 2:
                    problem, status = f"{type(exc).__name__}: {exc}", -1
                    break
                log.reconnects += 1
            except (OSError, http.client.HTTPException) as exc:
                if conn is not None:
                    conn.close()
                conn = None
                problem, status = f"{type(exc).__name__}: {exc}", -1
                break
        elapsed_ms = (time.perf_counter() - started) * 1000
        if started >= warmup_until[0]:
            log.samples.append((kind, started, elapsed_ms, status))
            if status == -1:
                log.errors.append(f"{kind} {url}: {problem}")
            elif not 200 <= status < 300:
                log.errors.append(f"{kind} {url}: HTTP {status}: {body[:200]!r}")
        if think_ms:
            time.sleep(rng.expovariate(1 / think_ms) / 1000)
    if conn is not None:
        conn.close()


def _percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 2)


def _summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": _percentile(ordered, 0.50),
        "p95_ms": _percentile(ordered, 0.95),
        "p99_ms": _percentile(ordered, 0.99),
        "max_ms": round(ordered[-1], 2) if ordered else None,
        "mean_ms": round(sum(ordered) / len(ordered), 2) if ordered else None,
    }


def load(
    port: int,
    prepared: dict[str, Any],
    clients: int,
    seconds: float,
    warmup: float,
    think_ms: float,
    ramp: float,
    pids: Callable[[], list[int]],
    database_url: str,
) -> dict[str, Any]:
    start = threading.Event()
    logs = [ClientLog() for _ in range(clients)]
    warmup_until, stop_at = [math.inf], [math.inf]
    threads = [
        threading.Thread(
            target=_client,
            args=(
                port,
                f"{prepared['cookie']}={prepared['tokens'][i]}",
                prepared["urls"],
                1000 + i,
                start,
                i * ramp / clients,
                warmup_until,
                stop_at,
                think_ms,
                logs[i],
            ),
            name=f"bench-client-{i}",
            daemon=True,
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        began = time.perf_counter()
        warmup_until[0] = began + warmup
        stop_at[0] = began + warmup + seconds
        start.set()
        time.sleep(max(0.0, warmup_until[0] - time.perf_counter()))
        server_pids = pids()
        try:
            server_pids_pg = _postgres_backends(database_url)
        except Exception:  # CPU accounting is best effort
            server_pids_pg = []
        before = CpuSnapshot.take(server_pids + server_pids_pg)
        time.sleep(max(0.0, stop_at[0] - time.perf_counter()))
        after = CpuSnapshot.take(server_pids + server_pids_pg)
        for thread in threads:
            thread.join(timeout=60)
    finally:  # also on Ctrl-C: the clients stop before gunicorn does
        stop_at[0] = -math.inf
        start.set()
    measured = after.at - before.at

    samples = [s for log in logs for s in log.samples]
    errors = [e for log in logs for e in log.errors]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _at, ms, _status in samples:
        by_kind[kind].append(ms)
    statuses = Counter(str(st) if st != -1 else "exception" for _k, _a, _ms, st in samples)
    overall = _summary([ms for _k, _a, ms, _s in samples])
    # Latency over time (by start): a slice much slower than the others points at the machine.
    slices: dict[int, list[float]] = defaultdict(list)
    for _k, at, ms, _s in samples:
        slices[int((at - warmup_until[0]) // 10)].append(ms)
    timeline = [
        {"from_s": 10 * i, **_summary(slices[i])} for i in sorted(slices) if 10 * i < seconds
    ]
    # Requests that started in the window; their answers may arrive just after it.
    throughput = round(len(samples) / seconds, 1) if seconds else None

    server_cpu = _cpu_used(before, after, server_pids)
    pg_cpu = _cpu_used(before, after, server_pids_pg)
    bench_cpu = after.bench - before.bench
    cpu: dict[str, Any] = {
        "measured_seconds": round(measured, 1),
        "cores": os.cpu_count(),
        "gunicorn_cpu_seconds": round(server_cpu, 1),
        "gunicorn_workers_cpu_seconds": [
            round((after.processes.get(p) or 0) - (before.processes.get(p) or 0), 1)
            for p in server_pids[1:]
        ],
        "postgres_backends_cpu_seconds": round(pg_cpu, 1),
        "load_generator_cpu_seconds": round(bench_cpu, 1),
    }
    if before.machine and after.machine:
        busy = after.machine[0] - before.machine[0]
        total = after.machine[1] - before.machine[1]
        cpu["machine_busy_percent"] = round(100 * busy / total, 1) if total else None
        cpu["other_processes_cpu_seconds"] = round(busy - server_cpu - pg_cpu - bench_cpu, 1)
    if samples:
        cpu["gunicorn_cpu_ms_per_request"] = round(1000 * server_cpu / len(samples), 2)
        cpu["postgres_cpu_ms_per_request"] = round(1000 * pg_cpu / len(samples), 2)
        cpu["load_generator_cpu_ms_per_request"] = round(1000 * bench_cpu / len(samples), 3)
        # What the cores could serve if gunicorn, PostgreSQL and the clients had them alone.
        spent = server_cpu + pg_cpu + bench_cpu
        if spent:
            cpu["cpu_bound_capacity_rps"] = round((os.cpu_count() or 1) * len(samples) / spent, 1)

    error_count = sum(1 for _k, _a, _ms, status in samples if not 200 <= status < 300)
    # Fairness: each client keeps its connection, so it stays with the gunicorn worker that
    # accepted it; a worker with more clients answers each of them more slowly.
    per_client = sorted(len(log.samples) for log in logs)
    client_means = sorted(
        sum(ms for _k, _a, ms, _s in log.samples) / len(log.samples) for log in logs if log.samples
    )
    return {
        "clients": clients,
        "seconds": seconds,
        "warmup_seconds": warmup,
        "ramp_up_seconds": round(ramp, 2),
        "closed_loop": True,
        "think_ms": think_ms,
        "requests": len(samples),
        "errors": error_count,
        "error_examples": errors[:5],
        "statuses": dict(statuses),
        "reconnects": sum(log.reconnects for log in logs),
        "throughput_rps": throughput,
        **{k: v for k, v in overall.items() if k != "requests"},
        "littles_law_mean_ms": round(1000 * clients / throughput - think_ms, 1)
        if throughput
        else None,
        "by_kind": {kind: _summary(by_kind[kind]) for kind in MIX if kind in by_kind},
        "timeline_10s": timeline,
        "per_client": {
            "requests_min_median_max": [
                per_client[0],
                per_client[len(per_client) // 2],
                per_client[-1],
            ]
            if per_client
            else None,
            "mean_ms_min_median_max": [
                round(client_means[0], 1),
                round(client_means[len(client_means) // 2], 1),
                round(client_means[-1], 1),
            ]
            if client_means
            else None,
        },
        "cpu": cpu,
        "targets": {
            "p95_ms_max": TARGET_P95_MS,
            "meets_errors": error_count == 0,
            "meets_p95": overall["p95_ms"] is not None and overall["p95_ms"] <= TARGET_P95_MS,
        },
    }


def run(
    app,
    seeded: dict[str, Any],
    database_url: str,
    data_dir: str,
    clients: int,
    seconds: float,
    warmup: float = 5.0,
    think_ms: float = 0.0,
    ramp: float = 0.8,
) -> dict[str, Any]:
    """Prepare, start gunicorn, load it, stop it (also on errors and Ctrl-C)."""
    prepared = prepare(app, seeded, clients, random.Random(7))
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()  # the bench's own connections are not part of the run
    env = compose_environment(database_url, data_dir, _free_port())
    server = Gunicorn(env, Path(data_dir) / "gunicorn.log")
    try:
        server.start()
        report = load(
            server.port, prepared, clients, seconds, warmup, think_ms, ramp * warmup,
            server.pids, database_url,
        )  # fmt: skip
    finally:
        exit_code = server.stop()
    log_text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    report["load_generator"] = (
        "closed loop: one thread and one keep-alive http.client connection per client, "
        "in the bench process"
    )
    report["mix"] = MIX
    report["server"] = {
        "command": "gunicorn -c gunicorn.conf.py --bind 127.0.0.1:<port> wsgi:app",
        "worker_class": "gthread",
        "workers": int(env["WEB_CONCURRENCY"]),
        "threads": int(env["GUNICORN_THREADS"]),
        "app_env": env["APP_ENV"],
        "rate_limits": f"on, {RATE_LIMIT_BUDGET} per window (budgets raised for the run)",
        "redis": "REDIS_URL" in env,
        "exit_code": exit_code,
        "log_problems": sum(
            1
            for line in log_text.splitlines()
            if " ERROR " in line or "CRITICAL" in line or "Traceback" in line
        ),
    }
    report["targets"]["passed"] = (
        report["targets"]["meets_errors"] and (report["targets"]["meets_p95"])
    )
    return report
