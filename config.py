"""Boxset configuration: every setting is read from the environment here and nowhere else.

`load_config()` returns a plain dict that `create_app()` loads into `app.config`. Production
refuses to start on weak secrets (`ConfigError` names the variable).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent

# Values that look like secrets but are documentation placeholders.
_PLACEHOLDER = re.compile(
    r"change[-_ ]?me|replace[-_ ]?me|placeholder|example|secret[-_ ]?key|your[-_ ]|xxxx|todo|"
    r"generate[-_ ]",
    re.IGNORECASE,
)
MIN_SECRET_LENGTH = 32

RATE_LIMIT_CLASSES: dict[str, int] = {
    "GLOBAL": 600,
    "AUTH": 20,
    "ADMIN": 300,
    "MEDIA_READ": 600,
    "MEDIA_WRITE": 240,
    "IMPORT_START": 60,
    "SYNC_POLL": 600,
    "EXTERNAL_API": 30,
}


# The feature flags (api.md "Administration"); each can be forced with FEATURE_FLAG_<KEY>.
FEATURE_FLAG_KEYS = (
    "import_plex_enabled",
    "import_csv_enabled",
    "tmdb_search_enabled",
    "lookup_upc_enabled",
    "recognize_cover_enabled",
)
# Barcode lookup presets and their default lookup URLs.
BARCODE_PRESET_URLS = {
    "upcitemdb": "https://api.upcitemdb.com/prod/trial/lookup",
    "barcodelookup": "https://api.barcodelookup.com/v3/products",
}


class ConfigError(RuntimeError):
    """Raised when the environment describes a configuration Boxset must not run with."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _str(env: Mapping[str, str], name: str, default: str = "") -> str:
    raw = env.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def read_version() -> str:
    """The single source of the version: pyproject.toml."""
    with open(BASE_DIR / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def _git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - fallback for source checkouts
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def weak_secret_reason(value: str | None) -> str | None:
    """Why a secret is unfit for production, or None when it is fine."""
    if not value:
        return "is not set"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) == 1 or _PLACEHOLDER.search(value):
        return "looks like a placeholder"
    return None


def _persistent_secret_key(data_dir: Path, filename: str = "secret_key") -> str:
    """Generate a secret once and keep it in the data directory (SECRET_KEY, and the
    integration encryption key of the embedded default)."""
    path = data_dir / filename
    if path.exists():
        existing = path.read_text().strip()
        if existing:
            return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def encryption_key_problem(value: str) -> str | None:
    """Why a value cannot be an integration encryption key, or None. Any random string of 32+
    characters works (Boxset derives the Fernet key from it); commas separate old keys."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if not all(33 <= ord(ch) <= 126 for ch in value) or "," in value:
        return "must be printable ASCII without spaces or commas"
    return None


def _encryption_keys(
    env: Mapping[str, str], data_dir: Path, production: bool
) -> tuple[str, list[str]]:
    """The current integration encryption key and the old ones still accepted for reading.
    The embedded default generates a key once into DATA_DIR/integration_key."""
    current = _str(env, "INTEGRATION_ENCRYPTION_KEY")
    if current:
        problem = encryption_key_problem(current)
        if problem:
            raise ConfigError(
                f"INTEGRATION_ENCRYPTION_KEY {problem}; use a random value (generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    elif not production:
        current = _persistent_secret_key(data_dir, "integration_key")
    old = [k.strip() for k in _str(env, "INTEGRATION_ENCRYPTION_OLD_KEYS").split(",") if k.strip()]
    for position, key in enumerate(old, start=1):
        problem = encryption_key_problem(key)
        if problem:
            raise ConfigError(f"INTEGRATION_ENCRYPTION_OLD_KEYS: key number {position} {problem}")
    return current, old


def _feature_flag_overrides(env: Mapping[str, str]) -> dict[str, bool]:
    """`FEATURE_FLAG_<KEY>=true|false` forces a flag; an unknown key is a typo worth stopping
    for (the override would silently do nothing)."""
    overrides: dict[str, bool] = {}
    for name in sorted(env):
        if not name.startswith("FEATURE_FLAG_") or env[name].strip() == "":
            continue
        key = name[len("FEATURE_FLAG_") :].lower()
        if key not in FEATURE_FLAG_KEYS:
            known = ", ".join(f"FEATURE_FLAG_{k.upper()}" for k in FEATURE_FLAG_KEYS)
            raise ConfigError(f"{name} is not a feature flag; known: {known}")
        overrides[key] = _bool(env, name, default=True)
    return overrides


def _barcode_preset(env: Mapping[str, str]) -> str:
    preset = _str(env, "BARCODE_PRESET", "upcitemdb").lower()
    if preset not in BARCODE_PRESET_URLS:
        raise ConfigError(f"BARCODE_PRESET must be upcitemdb or barcodelookup, got {preset!r}")
    return preset


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalise_database_url(url: str) -> str:
    """Pin the psycopg 3 driver so the URL means the same on every SQLAlchemy version."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    app_env = _str(env, "APP_ENV", "development").lower()
    if app_env not in {"development", "production"}:
        raise ConfigError(f"APP_ENV must be development or production, got {app_env!r}")
    production = app_env == "production"

    data_dir = Path(_str(env, "DATA_DIR", str(BASE_DIR / "instance"))).resolve()
    database_url = normalise_database_url(
        _str(env, "DATABASE_URL", _sqlite_url(data_dir / "boxset.db"))
    )
    redis_url = _str(env, "REDIS_URL")

    cookie_secure = _bool(env, "SESSION_COOKIE_SECURE", default=production)
    rate_limit_enabled = _bool(env, "RATE_LIMIT_ENABLED", default=True)
    flags_read_only = _bool(env, "FEATURE_FLAGS_READ_ONLY", default=False)
    s3_path_style = _bool(env, "S3_FORCE_PATH_STYLE", default=True)

    secret_key = _str(env, "SECRET_KEY")
    encryption_key, old_encryption_keys = _encryption_keys(env, data_dir, production)
    if production:
        for name, value in (
            ("SECRET_KEY", secret_key),
            ("INTEGRATION_ENCRYPTION_KEY", encryption_key),
        ):
            reason = weak_secret_reason(value)
            if reason:
                raise ConfigError(
                    f"{name} {reason}; production needs a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters (generate one with: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
        if not cookie_secure:
            raise ConfigError(
                "SESSION_COOKIE_SECURE is false; production cookies must be Secure "
                "(serve Boxset over HTTPS, with TRUST_PROXY set behind a proxy)"
            )
    if not secret_key:
        secret_key = _persistent_secret_key(data_dir)

    log_format = _str(env, "LOG_FORMAT", "text").lower()
    if log_format not in {"text", "json"}:
        raise ConfigError(f"LOG_FORMAT must be text or json, got {log_format!r}")
    audit_mode = _str(env, "AUDIT_LOG_MODE", "failures").lower()
    if audit_mode not in {"off", "failures", "mutations", "all"}:
        raise ConfigError(
            f"AUDIT_LOG_MODE must be off, failures, mutations or all, got {audit_mode!r}"
        )
    storage_provider = _str(env, "STORAGE_PROVIDER", "local").lower()
    if storage_provider not in {"local", "s3"}:
        raise ConfigError(f"STORAGE_PROVIDER must be local or s3, got {storage_provider!r}")

    max_upload_mb = _int(env, "MAX_UPLOAD_MB", 10, minimum=1)
    window = _int(env, "RATE_LIMIT_WINDOW_MINUTES", 15, minimum=1)
    rate_limits = {
        name.lower(): _int(env, f"RATE_LIMIT_{name}_MAX", default, minimum=1)
        for name, default in RATE_LIMIT_CLASSES.items()
    }

    version = _str(env, "APP_VERSION", read_version())
    feature_flag_env = _feature_flag_overrides(env)
    barcode_preset = _barcode_preset(env)

    is_sqlite = database_url.startswith("sqlite")
    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "PRODUCTION": production,
        "HOST": _str(env, "HOST", "127.0.0.1"),
        "PORT": _int(env, "PORT", 5000, minimum=1, maximum=65535),
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": secret_key,
        "INTEGRATION_ENCRYPTION_KEY": encryption_key,
        "INTEGRATION_ENCRYPTION_OLD_KEYS": old_encryption_keys,
        # Database
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {} if is_sqlite else {"pool_pre_ping": True},
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "MIGRATIONS_DIR": str(BASE_DIR / "migrations"),
        # Queue
        "REDIS_URL": redis_url,
        "HUEY_BACKEND": "redis" if redis_url else "sqlite",
        "HUEY_SQLITE_PATH": str(data_dir / "queue.db"),
        "HUEY_IN_PROCESS": not redis_url,
        "HUEY_IMMEDIATE": False,
        "HUEY_WORKERS": _int(env, "HUEY_WORKERS", 2, minimum=1),
        # Sessions and cookies
        "SESSION_TTL_DAYS": _int(env, "SESSION_TTL_DAYS", 7, minimum=1),
        "SESSION_MAX_PER_USER": _int(env, "SESSION_MAX_PER_USER", 10, minimum=1),
        "SESSION_CLEANUP_INTERVAL_MINUTES": _int(env, "SESSION_CLEANUP_INTERVAL_MINUTES", 60, 1),
        "IMPORT_STALE_MINUTES": _int(env, "IMPORT_STALE_MINUTES", 10, 1),
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_NAME": "boxset_session",
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Strict",
        "TRUST_PROXY": _int(env, "TRUST_PROXY", 0),
        "AUDIT_LOG_MODE": audit_mode,
        # CSRF: Flask-WTF for forms; the API checks the same token from a header.
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_HEADERS": ["X-CSRF-Token", "X-CSRFToken"],
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": cookie_secure,
        # Rate limits
        "RATELIMIT_ENABLED": rate_limit_enabled,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATE_LIMIT_WINDOW_MINUTES": window,
        "RATE_LIMITS": rate_limits,
        "AUTH_RATE_LIMITED": rate_limit_enabled,
        "AUTH_RATE_LIMIT": f"{rate_limits['auth']} per {window} minutes",
        # Uploads
        "MAX_UPLOAD_MB": max_upload_mb,
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024,
        # Covers
        "STORAGE_PROVIDER": storage_provider,
        "COVERS_DIR": str(data_dir / "covers"),
        "S3_ENDPOINT": _str(env, "S3_ENDPOINT"),
        "S3_BUCKET": _str(env, "S3_BUCKET"),
        "S3_ACCESS_KEY_ID": _str(env, "S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": _str(env, "S3_SECRET_ACCESS_KEY"),
        "S3_REGION": _str(env, "S3_REGION", "us-east-1"),
        "S3_FORCE_PATH_STYLE": s3_path_style,
        "S3_PUBLIC_BASE_URL": _str(env, "S3_PUBLIC_BASE_URL"),
        # Providers (defaults; spaces may override them)
        "TMDB_API_URL": _str(env, "TMDB_API_URL", "https://api.themoviedb.org/3"),
        "TMDB_API_KEY": _str(env, "TMDB_API_KEY"),
        "BARCODE_PRESET": barcode_preset,
        "BARCODE_API_URL": _str(env, "BARCODE_API_URL", BARCODE_PRESET_URLS[barcode_preset]),
        "BARCODE_API_KEY": _str(env, "BARCODE_API_KEY"),
        "VISION_API_URL": _str(env, "VISION_API_URL", "https://api.ocr.space/parse/image"),
        "VISION_API_KEY": _str(env, "VISION_API_KEY"),
        "PLEX_API_URL": _str(env, "PLEX_API_URL"),
        "PLEX_API_TOKEN": _str(env, "PLEX_API_TOKEN"),
        "FEATURE_FLAG_OVERRIDES": feature_flag_env,
        "FEATURE_FLAGS_READ_ONLY": flags_read_only,
        "FEATURE_FLAGS_CACHE_TTL_SECONDS": 5,  # how stale another process's view may be
        # Build metadata
        "APP_VERSION": version,
        "GIT_SHA": _str(env, "GIT_SHA") or _git_sha(),
        "BUILD_DATE": _str(env, "BUILD_DATE", "unknown"),
        "LOG_FORMAT": log_format,
        # Flask-AppBuilder: Alembic owns the schema; permissions come from `flask boxset init`.
        "APP_NAME": "Boxset",
        "FAB_CREATE_DB": False,
        "FAB_UPDATE_PERMS": False,
        "FAB_ADD_SECURITY_API": False,
        "FAB_API_SWAGGER_UI": True,
        "FAB_API_KEY_ENABLED": True,
        "FAB_API_KEY_PREFIXES": ["bxs_"],
        "FAB_SECURITY_MANAGER_CLASS": "app.security.BoxsetSecurityManager",
        "FAB_INDEX_VIEW": "app.views.home.HomeView",
        "FAB_BASE_TEMPLATE": "boxset/base.html",
        "FAB_API_ALLOW_JSON_QS": True,
        "AUTH_TYPE": 1,  # AUTH_DB
        "AUTH_USER_REGISTRATION": False,
        "AUTH_ROLE_ADMIN": "Admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "AUTH_USERNAME_CI": True,
        "JSON_SORT_KEYS": False,
    }
    return config


class TestConfig:
    """Overrides the test suite applies on top of `load_config()`."""

    TESTING = True
    HUEY_IMMEDIATE = True
    HUEY_IN_PROCESS = False
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    SERVER_NAME = "boxset.test"
    # Tests roll their changes back; a cached flag must not outlive the test that set it.
    FEATURE_FLAGS_CACHE_TTL_SECONDS = 0
    # API keys are verified on every request; a cheap hash keeps the fuzzing run quick.
    FAB_API_KEY_HASH_METHOD = "pbkdf2:sha256:1000"

    @classmethod
    def as_dict(cls) -> dict[str, Any]:
        return {k: v for k, v in vars(cls).items() if k.isupper()}
