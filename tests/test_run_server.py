"""The embedded default as `make run` starts it: migrate, init, serve; logs on stdout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.no_db_transaction


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update({"DATA_DIR": str(data_dir), "PORT": str(port), "HOST": "127.0.0.1", **extra})
    return env


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_default_serves_health_and_logs_json_lines(tmp_path):
    port = _free_port()
    env = _env(tmp_path / "data", port, LOG_FORMAT="json")
    for command in (("boxset", "upgrade"), ("boxset", "init")):
        result = _flask(env, *command)
        assert result.returncode == 0, result.stderr
    server = subprocess.Popen(
        [sys.executable, "run.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(
                    f"{base}/api/health", headers={"X-Request-ID": "run-1"}, timeout=2
                )
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json()["status"] == "ok" and health.json()["queue"] == "ok"
        assert httpx.get(f"{base}/api/missing", timeout=5).status_code == 404
        time.sleep(0.5)  # the log line is written when the server closes the response
    finally:
        server.terminate()
        out, _err = server.communicate(timeout=20)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "boxset.request"]
    assert any(
        r["path"] == "/api/health" and r["status"] == 200 and r["request_id"] == "run-1"
        for r in requests
    )
    assert any(r["path"] == "/api/missing" and r["status"] == 404 for r in requests)
    assert all({"method", "duration_ms", "user_id"} <= r.keys() for r in requests)
    data = tmp_path / "data"
    assert (data / "boxset.db").exists() and (data / "queue.db").exists()
    assert (data / "secret_key").exists()


def test_server_refuses_to_start_on_an_unmigrated_database(tmp_path):
    env = _env(tmp_path / "data", _free_port())
    result = subprocess.run(
        [sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert "boxset upgrade" in result.stderr
