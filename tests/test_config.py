"""Configuration: read from the environment, production refuses weak secrets."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
STRONG = secrets.token_urlsafe(48)


def _prod_env(tmp_path, **values) -> dict[str, str]:
    env = {
        "APP_ENV": "production",
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": STRONG,
        "INTEGRATION_ENCRYPTION_KEY": secrets.token_urlsafe(48),
    }
    env.update(values)
    return {k: v for k, v in env.items() if v is not None}


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("SECRET_KEY", None, "is not set"),
        ("SECRET_KEY", "short-secret", "shorter than 32"),
        ("SECRET_KEY", "change-me-change-me-change-me-change-me", "placeholder"),
        ("SECRET_KEY", "a" * 40, "placeholder"),
        ("INTEGRATION_ENCRYPTION_KEY", None, "is not set"),
        ("INTEGRATION_ENCRYPTION_KEY", "x" * 12, "shorter than 32"),
        ("INTEGRATION_ENCRYPTION_KEY", "replace-me-with-a-long-random-value-0123", "placeholder"),
    ],
)
def test_production_refuses_weak_secrets(tmp_path, variable, value, reason):
    with pytest.raises(ConfigError, match=variable) as info:
        load_config(_prod_env(tmp_path, **{variable: value}))
    assert reason in str(info.value)


def test_production_refuses_insecure_cookies(tmp_path):
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE"):
        load_config(_prod_env(tmp_path, SESSION_COOKIE_SECURE="false"))


def test_production_with_strong_secrets_has_secure_cookies(tmp_path):
    config = load_config(_prod_env(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Strict"


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = load_config({"DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load_config({"DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_embedded_default_uses_sqlite_and_the_in_process_queue(tmp_path):
    config = load_config({"DATA_DIR": str(tmp_path)})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/boxset.db"
    assert config["HUEY_BACKEND"] == "sqlite" and config["HUEY_IN_PROCESS"] is True
    assert config["STORAGE_PROVIDER"] == "local"
    assert (config["HOST"], config["PORT"]) == ("127.0.0.1", 5000)


def test_postgres_urls_pin_the_psycopg3_driver(tmp_path):
    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        config = load_config({"DATA_DIR": str(tmp_path), "DATABASE_URL": url})
        assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_redis_url_switches_queue_and_rate_limit_storage(tmp_path):
    config = load_config({"DATA_DIR": str(tmp_path), "REDIS_URL": "redis://r:6379/0"})
    assert config["HUEY_BACKEND"] == "redis" and config["HUEY_IN_PROCESS"] is False
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("MAX_UPLOAD_MB", "0"),
        ("RATE_LIMIT_ENABLED", "maybe"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError) as info:
        load_config({"DATA_DIR": str(tmp_path), name: value})
    assert name in str(info.value) or "boolean" in str(info.value)


def test_rate_limits_come_from_the_environment(tmp_path):
    config = load_config(
        {"DATA_DIR": str(tmp_path), "RATE_LIMIT_AUTH_MAX": "7", "RATE_LIMIT_WINDOW_MINUTES": "5"}
    )
    assert config["RATE_LIMITS"]["auth"] == 7
    assert config["AUTH_RATE_LIMIT"] == "7 per 5 minutes"


def test_production_with_a_weak_secret_exits_quickly_naming_it(tmp_path):
    env = {**os.environ, **_prod_env(tmp_path, SECRET_KEY="changeme")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


# --- integration encryption keys, provider defaults and feature flags -------------------------


def test_development_generates_an_integration_key_once_and_keeps_it(tmp_path):
    first = load_config({"DATA_DIR": str(tmp_path)})
    second = load_config({"DATA_DIR": str(tmp_path)})
    key = first["INTEGRATION_ENCRYPTION_KEY"]
    assert key == second["INTEGRATION_ENCRYPTION_KEY"] and len(key) >= 32
    assert key != first["SECRET_KEY"]
    key_file = tmp_path / "integration_key"
    assert key_file.read_text() == key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_production_never_generates_an_integration_key(tmp_path):
    with pytest.raises(ConfigError, match="INTEGRATION_ENCRYPTION_KEY is not set"):
        load_config(_prod_env(tmp_path, INTEGRATION_ENCRYPTION_KEY=None))
    assert not (tmp_path / "integration_key").exists()


def test_production_without_the_integration_key_exits_naming_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRATION_ENCRYPTION")}
    env.update(_prod_env(tmp_path, INTEGRATION_ENCRYPTION_KEY=None))
    result = subprocess.run(
        [sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "INTEGRATION_ENCRYPTION_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("too-short", "shorter than 32"),
        ("has spaces in it but is long enough to pass", "without spaces or commas"),
        ("has,a,comma,which,would,split,old,keys,apart", "without spaces or commas"),
        ("ünïcödé-" * 5, "printable ASCII"),
    ],
)
def test_a_malformed_integration_key_is_refused_in_every_environment(tmp_path, value, reason):
    for env in ({"DATA_DIR": str(tmp_path)}, _prod_env(tmp_path)):
        with pytest.raises(ConfigError, match="INTEGRATION_ENCRYPTION_KEY") as info:
            load_config({**env, "INTEGRATION_ENCRYPTION_KEY": value})
        assert reason in str(info.value)
        assert value not in str(info.value)  # a key is never echoed


def test_old_keys_are_a_comma_separated_list_and_each_is_checked(tmp_path):
    old = [secrets.token_urlsafe(48), secrets.token_hex(32)]
    config = load_config(
        {"DATA_DIR": str(tmp_path), "INTEGRATION_ENCRYPTION_OLD_KEYS": f" {old[0]} ,{old[1]},"}
    )
    assert config["INTEGRATION_ENCRYPTION_OLD_KEYS"] == old
    with pytest.raises(ConfigError, match="INTEGRATION_ENCRYPTION_OLD_KEYS: key number 2") as info:
        load_config(
            {"DATA_DIR": str(tmp_path), "INTEGRATION_ENCRYPTION_OLD_KEYS": f"{old[0]},tiny-bad-key"}
        )
    assert "tiny-bad-key" not in str(info.value) and old[0] not in str(info.value)


def test_feature_flag_overrides_are_booleans_for_known_flags(tmp_path):
    config = load_config(
        {
            "DATA_DIR": str(tmp_path),
            "FEATURE_FLAG_IMPORT_PLEX_ENABLED": "false",
            "FEATURE_FLAG_TMDB_SEARCH_ENABLED": "on",
            "FEATURE_FLAG_LOOKUP_UPC_ENABLED": "",  # empty = no override (compose passes these)
            "FEATURE_FLAGS_READ_ONLY": "true",
        }
    )
    assert config["FEATURE_FLAG_OVERRIDES"] == {
        "import_plex_enabled": False,
        "tmdb_search_enabled": True,
    }
    assert config["FEATURE_FLAGS_READ_ONLY"] is True
    with pytest.raises(ConfigError, match="FEATURE_FLAG_IMPORT_CSV_ENABLED must be true or false"):
        load_config({"DATA_DIR": str(tmp_path), "FEATURE_FLAG_IMPORT_CSV_ENABLED": "maybe"})
    with pytest.raises(ConfigError, match="FEATURE_FLAG_IMPORT_PLX_ENABLED is not a feature flag"):
        load_config({"DATA_DIR": str(tmp_path), "FEATURE_FLAG_IMPORT_PLX_ENABLED": "false"})


def test_provider_defaults_come_from_the_environment(tmp_path):
    config = load_config({"DATA_DIR": str(tmp_path)})
    assert config["TMDB_API_URL"] == "https://api.themoviedb.org/3"
    assert config["BARCODE_PRESET"] == "upcitemdb"
    assert config["BARCODE_API_URL"] == "https://api.upcitemdb.com/prod/trial/lookup"
    assert config["PLEX_API_URL"] == "" and config["PLEX_API_TOKEN"] == ""
    config = load_config(
        {"DATA_DIR": str(tmp_path), "BARCODE_PRESET": "barcodelookup", "PLEX_API_TOKEN": "tok"}
    )
    assert config["BARCODE_API_URL"] == "https://api.barcodelookup.com/v3/products"
    assert config["PLEX_API_TOKEN"] == "tok"
    with pytest.raises(ConfigError, match="BARCODE_PRESET"):
        load_config({"DATA_DIR": str(tmp_path), "BARCODE_PRESET": "amazon"})
