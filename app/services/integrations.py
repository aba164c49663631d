"""Integration settings per space (TMDB, barcode lookup, cover OCR, Plex) over environment
defaults, and the encryption of provider secrets at rest.

Secrets are Fernet tokens under a key derived from INTEGRATION_ENCRYPTION_KEY; the keys in
INTEGRATION_ENCRYPTION_OLD_KEYS still decrypt (MultiFernet), so a key can be rotated without
losing anything. A secret that no longer decrypts is never taken for an empty one: it is listed
in `decrypt_health`, logged and audited (`integration.decrypt_failed`) once per stored value,
and asking for it raises `SecretUnreadable`. Provider clients and importers read their settings
through `provider_settings()` / `effective_settings()`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import utcnow
from app.models.integrations import IntegrationSettings
from app.services import activity
from app.services.context import NO_REQUEST, RequestInfo
from app.services.tenancy import Scope
from config import BARCODE_PRESET_URLS

log = logging.getLogger("boxset.integrations")

PROVIDERS = ("tmdb", "barcode", "vision", "plex")
PROVIDER_NAMES = {
    "tmdb": "TMDB",
    "barcode": "Barcode lookup",
    "vision": "Cover OCR",
    "plex": "Plex",
}
# Secret setting -> (provider, environment default).
SECRETS: dict[str, tuple[str, str]] = {
    "tmdb_api_key": ("tmdb", "TMDB_API_KEY"),
    "barcode_api_key": ("barcode", "BARCODE_API_KEY"),
    "vision_api_key": ("vision", "VISION_API_KEY"),
    "plex_api_token": ("plex", "PLEX_API_TOKEN"),
}
# URL setting -> environment default (the barcode URL also follows the preset).
URLS: dict[str, str] = {
    "tmdb_api_url": "TMDB_API_URL",
    "barcode_api_url": "BARCODE_API_URL",
    "vision_api_url": "VISION_API_URL",
    "plex_api_url": "PLEX_API_URL",
}
SETTINGS = (
    "tmdb_api_url", "tmdb_api_key", "barcode_preset", "barcode_api_url", "barcode_api_key",
    "vision_api_url", "vision_api_key", "plex_api_url", "plex_api_token", "plex_sections",
)  # fmt: skip
FIX = (
    "Re-enter the value under Integrations (or clear it), or put the encryption key it was "
    "saved with back into INTEGRATION_ENCRYPTION_OLD_KEYS; see docs/integrations.md."
)
_HKDF_SALT = b"boxset integration secrets"
_HKDF_INFO = b"fernet key v1"
LAST4_MIN_LENGTH = 12  # shorter secrets show no characters at all


class SecretUnreadable(Conflict):
    """A stored provider secret no longer decrypts with the configured keys."""

    def __init__(self, space_id: int, settings: list[str]):
        self.space_id = space_id
        self.settings = sorted(settings)
        self.providers = sorted({SECRETS[s][0] for s in settings})
        names = ", ".join(PROVIDER_NAMES[p] for p in self.providers)
        super().__init__(
            f"The stored {names} secret of this space can no longer be decrypted "
            f"({', '.join(self.settings)}). A space admin must fix it: {FIX}"
        )


# --- encryption -----------------------------------------------------------------------------


def fernet_key(secret: str) -> bytes:
    """The Fernet key derived from an operator's key string (any random 32+ characters)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(derived)


@functools.lru_cache(maxsize=16)
def build_cipher(current: str, old: tuple[str, ...] = ()) -> MultiFernet:
    """Encrypts with `current`; decrypts with `current` or any of `old`."""
    if not current:
        raise RuntimeError("INTEGRATION_ENCRYPTION_KEY is not configured")
    return MultiFernet([Fernet(fernet_key(key)) for key in (current, *old)])


def cipher() -> MultiFernet:
    cfg = current_app.config
    return build_cipher(
        cfg["INTEGRATION_ENCRYPTION_KEY"], tuple(cfg["INTEGRATION_ENCRYPTION_OLD_KEYS"])
    )


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """Raises `cryptography.fernet.InvalidToken` when no configured key opens the token."""
    return cipher().decrypt(token.encode()).decode()


def _fingerprint(token: str) -> str:
    """Identifies a stored ciphertext (not the secret) for de-duplicating failure reports."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretState:
    set: bool
    last4: str | None
    source: str  # "space", "env" or "none"


@dataclass(frozen=True)
class SettingsView:
    """What the admin screen shows: effective values, secrets only as their state."""

    space_id: int
    values: dict[str, Any]
    secrets: dict[str, SecretState]
    failed: list[str]


@dataclass(frozen=True)
class _Resolved:
    values: dict[str, Any]  # effective values; secrets decrypted (None if unset or unreadable)
    sources: dict[str, str]  # per secret: space, env or none
    failed: list[str]  # secrets that no longer decrypt


def _row(space_id: int) -> IntegrationSettings | None:
    return db.session.get(IntegrationSettings, space_id)


def _column(setting: str) -> str:
    return f"{setting}_encrypted" if setting in SECRETS else setting


def _effective_preset(row: IntegrationSettings | None) -> str:
    return (row.barcode_preset if row else None) or current_app.config["BARCODE_PRESET"]


def _default_url(setting: str, preset: str) -> str | None:
    cfg = current_app.config
    if setting == "barcode_api_url" and preset != cfg["BARCODE_PRESET"]:
        return BARCODE_PRESET_URLS[preset]  # the environment's URL belongs to its own preset
    return cfg[URLS[setting]] or None


def _resolve(row: IntegrationSettings | None) -> _Resolved:
    cfg = current_app.config
    preset = _effective_preset(row)
    values: dict[str, Any] = {"barcode_preset": preset}
    for setting in URLS:
        own = getattr(row, setting) if row else None
        values[setting] = own or _default_url(setting, preset)
    values["plex_sections"] = list((row.plex_sections if row else None) or [])
    sources: dict[str, str] = {}
    failed: list[str] = []
    for setting, (_provider, env_name) in SECRETS.items():
        token = getattr(row, _column(setting)) if row else None
        if token:
            sources[setting] = "space"
            try:
                values[setting] = decrypt(token)
            except InvalidToken:
                values[setting] = None
                failed.append(setting)
        else:
            sources[setting] = "env" if cfg[env_name] else "none"
            values[setting] = cfg[env_name] or None
    return _Resolved(values, sources, failed)


def _secret_state(value: str | None, source: str) -> SecretState:
    last4 = value[-4:] if value and len(value) >= LAST4_MIN_LENGTH else None
    return SecretState(set=source != "none", last4=last4, source=source)


def _report_failures(
    row: IntegrationSettings | None,
    failed: list[str],
    actor: BoxsetUser | None,
    info: RequestInfo,
) -> None:
    """Log and audit each newly broken secret once; remember which stored values were
    reported, so reads do not flood the log. Commits only when something changed: call it
    before the unit of work has changes of its own."""
    if row is None:
        return
    current = {name: _fingerprint(getattr(row, _column(name))) for name in failed}
    known = dict(row.decrypt_failures or {})
    if current == known:
        return
    for name, fingerprint in current.items():
        if known.get(name) == fingerprint:
            continue
        provider = SECRETS[name][0]
        log.warning(
            "integration secret %s (%s) of space %s does not decrypt with "
            "INTEGRATION_ENCRYPTION_KEY or INTEGRATION_ENCRYPTION_OLD_KEYS; %s",
            name,
            provider,
            row.space_id,
            FIX,
        )
        activity.record(
            "integration.decrypt_failed",
            actor=actor,
            space_id=row.space_id,
            entity_type="integration_settings",
            entity_id=row.space_id,
            details={"provider": provider, "setting": name, "fix": FIX},
            info=info,
        )
    row.decrypt_failures = current
    db.session.commit()


def read_settings(scope: Scope, info: RequestInfo = NO_REQUEST) -> SettingsView:
    """The space's settings as the Integrations screen shows them (space admins)."""
    scope.require("admin", "manage integrations")
    return _view(scope.space_id, scope.user, info)


def _view(space_id: int, actor: BoxsetUser | None, info: RequestInfo) -> SettingsView:
    row = _row(space_id)
    resolved = _resolve(row)
    _report_failures(row, resolved.failed, actor, info)
    values = {k: v for k, v in resolved.values.items() if k not in SECRETS}
    secrets = {
        name: _secret_state(resolved.values[name], resolved.sources[name]) for name in SECRETS
    }
    return SettingsView(space_id, values, secrets, resolved.failed)


# --- changing -------------------------------------------------------------------------------


def _apply(row: IntegrationSettings, setting: str, value: Any) -> bool:
    """Set one setting (None clears it); True when it changed."""
    column = _column(setting)
    if setting in SECRETS:
        if value is None:
            changed = getattr(row, column) is not None
            setattr(row, column, None)
        else:
            changed = True  # a secret sent is a secret saved (re-encrypted with the current key)
            setattr(row, column, encrypt(value))
        return changed
    if setting == "plex_sections":
        value = list(value) if value else None
    if getattr(row, column) == value:
        return False
    setattr(row, column, value)
    return True


def update_settings(
    scope: Scope, changes: dict[str, Any], info: RequestInfo = NO_REQUEST
) -> SettingsView:
    """Change only the settings given (`None` clears one: the environment default applies).
    The activity log gets the names of what changed, never a value."""
    scope.require("admin", "manage integrations")
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown integration settings: {sorted(unknown)}")
    row = _row(scope.space_id)
    if row is None:
        row = IntegrationSettings(space_id=scope.space_id, decrypt_failures={})
        db.session.add(row)
    changed = sorted(s for s in SETTINGS if s in changes and _apply(row, s, changes[s]))
    if changed:
        failures = dict(row.decrypt_failures or {})
        row.decrypt_failures = {k: v for k, v in failures.items() if k not in changed}
        row.updated_at = utcnow()
        row.updated_by = scope.user_id
        activity.record(
            "integration.update",
            actor=scope.user,
            space_id=scope.space_id,
            entity_type="integration_settings",
            entity_id=scope.space_id,
            details={"changed": changed},
            info=info,
        )
    db.session.commit()
    return _view(scope.space_id, scope.user, info)


def rotate_secrets(info: RequestInfo = NO_REQUEST) -> tuple[int, list[tuple[int, str]]]:
    """Re-encrypt every stored secret with the current key (after a key rotation), so the old
    key can leave INTEGRATION_ENCRYPTION_OLD_KEYS. Returns how many were re-encrypted and the
    (space_id, setting) pairs no key opens (left as they are, and reported)."""
    fernet = cipher()
    rows = list(
        db.session.scalars(select(IntegrationSettings).order_by(IntegrationSettings.space_id))
    )
    count, unreadable = 0, []
    for row in rows:
        for setting in SECRETS:
            token = getattr(row, _column(setting))
            if not token:
                continue
            try:
                rotated = fernet.rotate(token.encode()).decode("ascii")
            except InvalidToken:
                unreadable.append((row.space_id, setting))
                continue
            setattr(row, _column(setting), rotated)
            count += 1
    db.session.commit()
    for row in rows:
        _report_failures(row, [s for sid, s in unreadable if sid == row.space_id], None, info)
    return count, unreadable


# --- for provider clients and importers -----------------------------------------------------


@dataclass(frozen=True)
class TmdbSettings:
    api_url: str | None
    api_key: str | None = field(repr=False)


@dataclass(frozen=True)
class BarcodeSettings:
    preset: str
    api_url: str | None
    api_key: str | None = field(repr=False)


@dataclass(frozen=True)
class VisionSettings:
    api_url: str | None
    api_key: str | None = field(repr=False)


@dataclass(frozen=True)
class PlexSettings:
    api_url: str | None
    api_token: str | None = field(repr=False)
    sections: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class EffectiveSettings:
    """What a space's provider calls use: its own values, else the environment's; secrets
    decrypted (None when neither sets one)."""

    space_id: int
    tmdb: TmdbSettings
    barcode: BarcodeSettings
    vision: VisionSettings
    plex: PlexSettings


def _provider(values: dict[str, Any], provider: str) -> Any:
    if provider == "tmdb":
        return TmdbSettings(values["tmdb_api_url"], values["tmdb_api_key"])
    if provider == "barcode":
        return BarcodeSettings(
            values["barcode_preset"], values["barcode_api_url"], values["barcode_api_key"]
        )
    if provider == "vision":
        return VisionSettings(values["vision_api_url"], values["vision_api_key"])
    if provider == "plex":
        return PlexSettings(
            values["plex_api_url"], values["plex_api_token"], values["plex_sections"]
        )
    raise ValueError(f"unknown provider {provider!r}")


def _checked(
    space_id: int, providers: tuple[str, ...], actor: BoxsetUser | None, info: RequestInfo
) -> dict[str, Any]:
    row = _row(space_id)
    resolved = _resolve(row)
    _report_failures(row, resolved.failed, actor, info)
    broken = [s for s in resolved.failed if SECRETS[s][0] in providers]
    if broken:
        raise SecretUnreadable(space_id, broken)
    return resolved.values


def effective_settings(
    space_id: int, *, actor: BoxsetUser | None = None, info: RequestInfo = NO_REQUEST
) -> EffectiveSettings:
    """Every provider's settings for the space. Raises `SecretUnreadable` (409) when any
    stored secret no longer decrypts (after logging and auditing it once). It may commit that
    audit: call it before changing anything."""
    values = _checked(space_id, PROVIDERS, actor, info)
    return EffectiveSettings(space_id, *(_provider(values, p) for p in PROVIDERS))


def provider_settings(
    space_id: int, provider: str, *, actor: BoxsetUser | None = None, info: RequestInfo = NO_REQUEST
) -> Any:
    """One provider's settings; only that provider's secret has to decrypt, so a broken Plex
    token does not stop TMDB searches."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}")
    return _provider(_checked(space_id, (provider,), actor, info), provider)
