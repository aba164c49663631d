"""Deployment artefacts: compose files validate, the image is built as documented, and every
environment variable the code reads is documented."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parent.parent
DUMMY = {
    "SECRET_KEY": "x",
    "INTEGRATION_ENCRYPTION_KEY": "x",
    "POSTGRES_PASSWORD": "x",
    "MINIO_ROOT_USER": "x",
    "MINIO_ROOT_PASSWORD": "x",
}


def _docker_env(**extra: str) -> dict[str, str]:
    """Use the Compose plugin that `make` links into .venv when the system has none."""
    env = {**os.environ, **extra}
    plugin_dir = ROOT / ".venv" / "docker"
    if (plugin_dir / "cli-plugins" / "docker-compose").exists():
        env["DOCKER_CONFIG"] = str(plugin_dir)
    return env


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(
        ["docker", "compose", "version"], env=_docker_env(), capture_output=True, timeout=30
    )
    return result.returncode == 0


def _variables_read_by_config() -> set[str]:
    source = (ROOT / "config.py").read_text()
    names = set(re.findall(r'(?:_str|_int)\(env, "([A-Z0-9_]+)"', source))
    names |= set(re.findall(r'env\.get\("([A-Z0-9_]+)"\)', source))
    classes = re.findall(r'^\s+"([A-Z_]+)": \d+,$', source, re.M)
    names |= {f"RATE_LIMIT_{name}_MAX" for name in classes}
    return names


@pytest.mark.parametrize("with_secrets", [True, False])
@pytest.mark.parametrize("compose_file", ["docker-compose.yml", "docker-compose.registry.yml"])
def test_compose_file_is_valid(compose_file, with_secrets):
    """Valid as shipped (the app itself refuses to start without its secrets)."""
    require_service("docker compose", _compose_available())
    env = (
        _docker_env(**DUMMY)
        if with_secrets
        else {k: v for k, v in _docker_env().items() if k not in DUMMY}
    )
    result = subprocess.run(
        ["docker", "compose", "-f", compose_file, "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_bakes_version_runs_unprivileged_and_checks_health():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for arg in ("APP_VERSION", "GIT_SHA", "BUILD_DATE"):
        assert re.search(rf"^ARG {arg}", dockerfile, re.M), arg
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert user and user[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in dockerfile and "/api/health" in dockerfile


def test_every_environment_variable_is_documented():
    names = _variables_read_by_config()
    assert {"SECRET_KEY", "DATABASE_URL", "RATE_LIMIT_AUTH_MAX", "LOG_FORMAT"} <= names
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "env.example").read_text()
    assert not {n for n in names if n not in readme}, "missing from README.md"
    assert not {n for n in names if n not in example}, "missing from env.example"
    assert "FEATURE_FLAG_" in readme and "FEATURE_FLAG_" in example


def test_version_lives_in_pyproject_only():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"[{version}]" in (ROOT / "CHANGELOG.md").read_text()
    for path in ("app", "config.py"):
        target = ROOT / path
        files = target.rglob("*.py") if target.is_dir() else [target]
        for file in files:
            assert f'"{version}"' not in file.read_text(), f"{file} hard-codes the version"
