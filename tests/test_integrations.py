"""Integration settings: per-space values over environment defaults, secrets encrypted at rest
and never shown, key rotation, and secrets that no longer decrypt (reported, logged and audited
once, never taken for empty)."""

from __future__ import annotations

import json
import logging
import secrets

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from app.extensions import db
from app.models.activity import ActivityEntry
from app.models.integrations import IntegrationSettings
from app.services import integrations
from config import BARCODE_PRESET_URLS
from tests.factories import household, join, signed_in

URL = "/api/admin/settings/integrations"
TMDB_KEY = "tmdb-" + secrets.token_hex(16)  # unique, so finding it anywhere is meaningful
PLEX_TOKEN = "plex-" + secrets.token_hex(10)
KEY_A = secrets.token_urlsafe(48)
KEY_B = secrets.token_urlsafe(48)
KEY_C = secrets.token_urlsafe(48)


@pytest.fixture
def home(app):
    return household(app)


@pytest.fixture
def keys(app, monkeypatch):
    """Switch the app's encryption keys for one test: keys(current, *old)."""

    def use(current: str, *old: str) -> None:
        monkeypatch.setitem(app.config, "INTEGRATION_ENCRYPTION_KEY", current)
        monkeypatch.setitem(app.config, "INTEGRATION_ENCRYPTION_OLD_KEYS", list(old))

    return use


def _activity(app, action: str) -> list[ActivityEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(ActivityEntry)
                .where(ActivityEntry.action == action)
                .order_by(ActivityEntry.id)
            )
        )


def _stored(app, space_id: int) -> IntegrationSettings:
    with app.app_context():
        row = db.session.get(IntegrationSettings, space_id)
        db.session.expunge(row)
        return row


def _all_activity_text(app) -> str:
    with app.app_context():
        rows = db.session.scalars(select(ActivityEntry)).all()
        return json.dumps([[r.action, r.details, r.entity_id] for r in rows])


# --- encryption -----------------------------------------------------------------------------


def test_a_secret_round_trips_and_the_ciphertext_does_not_contain_it(app):
    with app.app_context():
        token = integrations.encrypt(TMDB_KEY)
        assert TMDB_KEY not in token and token != integrations.encrypt(TMDB_KEY)  # random IV
        assert integrations.decrypt(token) == TMDB_KEY


def test_another_key_cannot_decrypt():
    token = integrations.build_cipher(KEY_A).encrypt(b"value").decode()
    with pytest.raises(InvalidToken):
        integrations.build_cipher(KEY_B).decrypt(token.encode())
    assert integrations.build_cipher(KEY_B, (KEY_A,)).decrypt(token.encode()) == b"value"


def test_any_long_random_string_is_a_key_not_only_fernet_keys():
    hex_key = secrets.token_hex(32)  # what `openssl rand -hex 32` gives
    cipher = integrations.build_cipher(hex_key)
    assert cipher.decrypt(cipher.encrypt(b"x")) == b"x"
    assert integrations.fernet_key(hex_key) == integrations.fernet_key(hex_key)
    assert integrations.fernet_key(hex_key) != integrations.fernet_key(KEY_A)


# --- reading and changing -------------------------------------------------------------------


def test_space_admin_saves_settings_and_secrets_come_back_only_as_their_state(app, home, caplog):
    body = {
        "tmdb_api_url": "https://tmdb.example/3",
        "tmdb_api_key": TMDB_KEY,
        "barcode_preset": "upcitemdb",
        "vision_api_url": "http://ocr.lan:8080/parse",
        "plex_api_url": "http://plex.lan:32400",
        "plex_api_token": PLEX_TOKEN,
        "plex_sections": [{"key": "1", "title": "Movies", "type": "movie"}],
    }
    with caplog.at_level(logging.DEBUG):
        put = home.owner.put(URL, json=body)
        got = home.owner.get(URL)
    assert put.status_code == 200, put.json
    assert got.status_code == 200
    for response in (put, got):
        text = response.get_data(as_text=True)
        assert TMDB_KEY not in text and PLEX_TOKEN not in text
        result = response.json["result"]
        assert result["tmdb_api_url"] == "https://tmdb.example/3"
        assert result["plex_api_url"] == "http://plex.lan:32400"
        assert result["plex_sections"] == body["plex_sections"]
        assert result["tmdb_api_key"] == {"set": True, "last4": TMDB_KEY[-4:], "source": "space"}
        assert result["plex_api_token"] == {
            "set": True,
            "last4": PLEX_TOKEN[-4:],
            "source": "space",
        }
        assert result["decrypt_health"] == {"ok": True, "failed": []}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert TMDB_KEY not in logged and PLEX_TOKEN not in logged
    stored = _stored(app, home.space_id)
    assert stored.tmdb_api_key_encrypted and TMDB_KEY not in stored.tmdb_api_key_encrypted
    assert PLEX_TOKEN not in stored.plex_api_token_encrypted
    [update] = _activity(app, "integration.update")
    assert update.details == {"changed": sorted(body)}
    assert update.space_id == home.space_id and update.user_id == home.owner.user_id
    everything = _all_activity_text(app)
    assert TMDB_KEY not in everything and PLEX_TOKEN not in everything


def test_put_changes_only_the_keys_sent_and_null_clears(app, home):
    home.owner.put(URL, json={"tmdb_api_url": "https://tmdb.example/3", "tmdb_api_key": TMDB_KEY})
    result = home.owner.put(URL, json={"barcode_preset": "barcodelookup"}).json["result"]
    assert result["tmdb_api_url"] == "https://tmdb.example/3"
    assert result["tmdb_api_key"]["source"] == "space"
    assert result["barcode_preset"] == "barcodelookup"

    result = home.owner.put(URL, json={"tmdb_api_url": None, "tmdb_api_key": None}).json["result"]
    assert result["tmdb_api_url"] == app.config["TMDB_API_URL"]  # back to the default
    assert result["tmdb_api_key"] == {"set": False, "last4": None, "source": "none"}
    assert result["barcode_preset"] == "barcodelookup"
    stored = _stored(app, home.space_id)
    assert stored.tmdb_api_key_encrypted is None and stored.tmdb_api_url is None
    changed = [e.details["changed"] for e in _activity(app, "integration.update")]
    assert changed == [
        ["tmdb_api_key", "tmdb_api_url"],
        ["barcode_preset"],
        ["tmdb_api_key", "tmdb_api_url"],
    ]


def test_sending_what_is_already_there_records_no_change(app, home):
    home.owner.put(URL, json={"plex_api_url": "http://plex.lan:32400"})
    home.owner.put(URL, json={"plex_api_url": "http://plex.lan:32400"})
    assert len(_activity(app, "integration.update")) == 1


def test_environment_defaults_show_until_the_space_sets_its_own(app, home, monkeypatch):
    env_key = "env-" + secrets.token_hex(12)
    monkeypatch.setitem(app.config, "TMDB_API_KEY", env_key)
    monkeypatch.setitem(app.config, "PLEX_API_URL", "http://env-plex:32400")
    result = home.owner.get(URL).json["result"]
    assert result["tmdb_api_key"] == {"set": True, "last4": env_key[-4:], "source": "env"}
    assert result["plex_api_url"] == "http://env-plex:32400"
    assert result["vision_api_url"] == app.config["VISION_API_URL"]
    assert result["vision_api_key"] == {"set": False, "last4": None, "source": "none"}
    assert result["plex_sections"] == []
    result = home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY}).json["result"]
    assert result["tmdb_api_key"]["source"] == "space"
    with app.app_context():
        assert integrations.provider_settings(home.space_id, "tmdb").api_key == TMDB_KEY


def test_short_secrets_show_no_characters(app, home):
    result = home.owner.put(URL, json={"vision_api_key": "abcdefgh"}).json["result"]
    assert result["vision_api_key"] == {"set": True, "last4": None, "source": "space"}


def test_the_barcode_url_follows_the_preset_unless_the_space_sets_one(app, home):
    assert home.owner.get(URL).json["result"]["barcode_api_url"] == app.config["BARCODE_API_URL"]
    result = home.owner.put(URL, json={"barcode_preset": "barcodelookup"}).json["result"]
    assert result["barcode_api_url"] == BARCODE_PRESET_URLS["barcodelookup"]
    result = home.owner.put(URL, json={"barcode_api_url": "https://mirror.example/v3"}).json[
        "result"
    ]
    assert result["barcode_api_url"] == "https://mirror.example/v3"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tmdb_api_url": "ftp://tmdb.example/3"}, "tmdb_api_url"),
        ({"tmdb_api_url": "javascript:alert(1)"}, "tmdb_api_url"),
        ({"tmdb_api_url": "not a url"}, "tmdb_api_url"),
        ({"tmdb_api_url": "https://"}, "tmdb_api_url"),
        ({"tmdb_api_url": ""}, "tmdb_api_url"),
        ({"plex_api_url": "http://user:pw@plex.lan:32400"}, "plex_api_url"),
        ({"tmdb_api_url": "https://tmdb.example/3?api_key=abc"}, "tmdb_api_url"),
        ({"plex_api_url": "http://plex.lan:99999"}, "plex_api_url"),
        ({"tmdb_api_url": "http://xn--zz.com/3"}, "tmdb_api_url"),  # punycode httpx refuses
        ({"tmdb_api_url": "http://ex\u200bample.com/3"}, "tmdb_api_url"),  # zero-width space
        ({"vision_api_url": "https://x.example/" + "a" * 600}, "vision_api_url"),
        ({"tmdb_api_url": 42}, "tmdb_api_url"),
        ({"barcode_preset": "amazon"}, "barcode_preset"),
        ({"tmdb_api_key": ""}, "tmdb_api_key"),
        ({"tmdb_api_key": "has a space"}, "tmdb_api_key"),
        ({"tmdb_api_key": "line\nbreak"}, "tmdb_api_key"),
        ({"tmdb_api_key": 12345}, "tmdb_api_key"),
        ({"plex_api_token": "x" * 1001}, "plex_api_token"),
        ({"plex_sections": "1,2"}, "plex_sections"),
        ({"plex_sections": [{"key": "1", "title": "Movies"}]}, "plex_sections"),
        ({"plex_sections": [{"key": "1", "title": "M", "type": "movie", "x": 1}]}, "plex_sections"),
        ({"plex_sections": [{"key": "a b", "title": "M", "type": "movie"}]}, "plex_sections"),
        (
            {"plex_sections": [{"key": "1", "title": "A", "type": "movie"}] * 2},
            "plex_sections",
        ),
        ({"plex_server": "x"}, "plex_server"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(app, home, body, field):
    response = home.owner.put(URL, json=body)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "validation_failed"
    assert field in response.json["message"]
    assert db_row_absent(app, home.space_id)


def db_row_absent(app, space_id: int) -> bool:
    with app.app_context():
        return db.session.get(IntegrationSettings, space_id) is None


def test_a_body_that_is_not_a_json_object_is_refused(app, home):
    response = home.owner.client.put(
        URL, data="tmdb_api_key=x", headers={**home.owner.csrf, "Content-Type": "text/plain"}
    )
    assert response.status_code == 400 and response.json["code"] == "malformed_request"
    response = home.owner.put(URL, json=["tmdb_api_key"])
    assert response.status_code == 400 and response.json["code"] == "validation_failed"


# --- who may ----------------------------------------------------------------------------------


def test_only_space_admins_and_the_instance_admin_manage_integrations(app, home):
    admin = join(app, home, "ann@example.test", "admin")
    member = join(app, home, "mo@example.test", "member")
    viewer = join(app, home, "vi@example.test", "viewer")
    for caller in (member, viewer):
        for response in (caller.get(URL), caller.put(URL, json={"tmdb_api_key": TMDB_KEY})):
            assert response.status_code == 403 and response.json["code"] == "forbidden"
    assert admin.put(URL, json={"tmdb_api_key": TMDB_KEY}).status_code == 200
    assert admin.get(URL).status_code == 200

    root = signed_in(app, "root@example.test", instance_admin=True)
    root.post("/api/spaces", json={"name": "Ops"})
    other = f"{URL}?space_id={home.space_id}"
    assert root.get(other).json["result"]["tmdb_api_key"]["source"] == "space"
    assert root.put(other, json={"tmdb_api_key": None}).status_code == 200
    assert app.test_client().get(URL).status_code == 401


def test_another_households_settings_answer_404(app, home):
    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY})
    stranger = household(app, "sam@example.test", "Theirs")
    for response in (
        stranger.owner.get(f"{URL}?space_id={home.space_id}"),
        stranger.owner.put(f"{URL}?space_id={home.space_id}", json={"tmdb_api_key": None}),
        stranger.owner.put(f"{URL}?space_id={home.space_id}", json={"tmdb_api_url": 1}),
    ):
        assert response.status_code == 404 and response.json["code"] == "not_found"
    assert _stored(app, home.space_id).tmdb_api_key_encrypted is not None
    # Their own space's settings are separate.
    assert stranger.owner.get(URL).json["result"]["tmdb_api_key"]["source"] == "none"


# --- rotation -------------------------------------------------------------------------------


def test_a_secret_saved_with_an_old_key_still_decrypts_and_a_resave_uses_the_new_key(
    app, home, keys
):
    keys(KEY_A)
    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY})
    saved_with_a = _stored(app, home.space_id).tmdb_api_key_encrypted

    keys(KEY_B, KEY_A)  # rotated: B is current, A is still accepted
    result = home.owner.get(URL).json["result"]
    assert result["decrypt_health"] == {"ok": True, "failed": []}
    assert result["tmdb_api_key"]["last4"] == TMDB_KEY[-4:]
    with app.app_context():
        assert integrations.effective_settings(home.space_id).tmdb.api_key == TMDB_KEY

    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY})
    saved_with_b = _stored(app, home.space_id).tmdb_api_key_encrypted
    assert saved_with_b != saved_with_a
    assert integrations.build_cipher(KEY_B).decrypt(saved_with_b.encode()) == TMDB_KEY.encode()
    with pytest.raises(InvalidToken):
        integrations.build_cipher(KEY_A).decrypt(saved_with_b.encode())


def test_rotate_secrets_reencrypts_everything_with_the_current_key(app, home, keys):
    keys(KEY_A)
    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY, "plex_api_token": PLEX_TOKEN})
    keys(KEY_B, KEY_A)
    with app.app_context():
        count, unreadable = integrations.rotate_secrets()
    assert (count, unreadable) == (2, [])
    keys(KEY_B)  # the old key can go now
    with app.app_context():
        settings = integrations.effective_settings(home.space_id)
    assert (settings.tmdb.api_key, settings.plex.api_token) == (TMDB_KEY, PLEX_TOKEN)


def test_the_rotation_command_reports_what_it_did(app, home, keys):
    keys(KEY_A)
    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY})
    keys(KEY_B, KEY_A)
    result = app.test_cli_runner().invoke(args=["boxset", "rotate-integration-keys"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 secret(s)" in result.output
    assert TMDB_KEY not in result.output
    keys(KEY_C)  # neither key: the command names what could not be read, and fails
    broken = app.test_cli_runner().invoke(args=["boxset", "rotate-integration-keys"])
    assert broken.exit_code == 1
    assert f"space {home.space_id} tmdb_api_key" in broken.output


# --- a secret that no longer decrypts -----------------------------------------------------


def test_a_secret_that_no_longer_decrypts_is_reported_audited_once_and_never_empty(
    app, home, keys, caplog
):
    keys(KEY_A)
    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY, "plex_api_url": "http://plex.lan:32400"})
    keys(KEY_B)  # the key changed and the old one was not kept
    with caplog.at_level(logging.INFO, logger="boxset.integrations"):
        first = home.owner.get(URL).json["result"]
        second = home.owner.get(URL).json["result"]
        with app.app_context(), pytest.raises(integrations.SecretUnreadable) as info:
            integrations.effective_settings(home.space_id)
    for result in (first, second):
        assert result["decrypt_health"] == {"ok": False, "failed": ["tmdb_api_key"]}
        assert result["tmdb_api_key"] == {"set": True, "last4": None, "source": "space"}
        assert result["plex_api_url"] == "http://plex.lan:32400"  # the rest still shows
    assert info.value.status == 409 and info.value.providers == ["tmdb"]
    assert "tmdb_api_key" in info.value.message and TMDB_KEY not in info.value.message

    [event] = _activity(app, "integration.decrypt_failed")  # once, not on every read
    assert event.space_id == home.space_id
    assert event.details["provider"] == "tmdb" and event.details["setting"] == "tmdb_api_key"
    assert TMDB_KEY not in json.dumps(event.details)
    warnings = [r for r in caplog.records if r.name == "boxset.integrations"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "tmdb" in warnings[0].getMessage() and TMDB_KEY not in warnings[0].getMessage()

    # Other providers keep working; the broken one never turns into an empty key.
    with app.app_context():
        plex = integrations.provider_settings(home.space_id, "plex")
        assert plex.api_url == "http://plex.lan:32400"
        with pytest.raises(integrations.SecretUnreadable):
            integrations.provider_settings(home.space_id, "tmdb")

    # Re-entering it fixes it; a later breakage is reported again.
    fixed = home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY}).json["result"]
    assert fixed["decrypt_health"] == {"ok": True, "failed": []}
    keys(KEY_A)
    home.owner.get(URL)
    assert len(_activity(app, "integration.decrypt_failed")) == 2


def test_putting_the_old_key_back_heals_without_re_entering(app, home, keys):
    keys(KEY_A)
    home.owner.put(URL, json={"vision_api_key": TMDB_KEY})
    keys(KEY_B)
    assert home.owner.get(URL).json["result"]["decrypt_health"]["failed"] == ["vision_api_key"]
    keys(KEY_B, KEY_A)
    assert home.owner.get(URL).json["result"]["decrypt_health"] == {"ok": True, "failed": []}
    assert _stored(app, home.space_id).decrypt_failures == {}


def test_effective_settings_decrypt_for_provider_clients_and_hide_secrets_in_repr(app, home):
    home.owner.put(
        URL,
        json={
            "tmdb_api_key": TMDB_KEY,
            "plex_api_token": PLEX_TOKEN,
            "plex_sections": [{"key": "2", "title": "Shows", "type": "show"}],
        },
    )
    with app.app_context():
        settings = integrations.effective_settings(home.space_id)
    assert settings.tmdb.api_key == TMDB_KEY and settings.tmdb.api_url == app.config["TMDB_API_URL"]
    assert settings.plex.api_token == PLEX_TOKEN
    assert settings.plex.sections == [{"key": "2", "title": "Shows", "type": "show"}]
    assert settings.barcode.preset == app.config["BARCODE_PRESET"]
    assert TMDB_KEY not in repr(settings) and PLEX_TOKEN not in repr(settings)


# --- the page -------------------------------------------------------------------------------


def test_the_integrations_page_has_a_test_button_per_provider(app, home):
    page = home.owner.get("/integrations")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-page="integrations"' in html
    for provider in ("tmdb", "barcode", "vision", "plex"):
        assert f'data-test="{provider}"' in html
    assert 'id="nav-integrations"' in html
    member = join(app, home, "mo@example.test", "member")
    assert member.get("/integrations").status_code == 403
    assert 'id="nav-integrations"' not in member.get("/profile").get_data(as_text=True)


def test_deleting_a_space_deletes_its_settings(app, home):
    home.owner.put(URL, json={"tmdb_api_key": TMDB_KEY})
    response = home.owner.delete(f"/api/spaces/{home.space_id}", json={"confirm_name": "Home"})
    assert response.status_code == 204, response.json
    assert db_row_absent(app, home.space_id)


def test_a_damaged_stored_value_is_reported_like_an_undecryptable_one(app, home):
    home.owner.put(URL, json={"plex_api_token": PLEX_TOKEN})
    with app.app_context():
        db.session.get(IntegrationSettings, home.space_id).plex_api_token_encrypted = "dämaged"
        db.session.commit()
    result = home.owner.get(URL).json["result"]
    assert result["decrypt_health"] == {"ok": False, "failed": ["plex_api_token"]}
    assert len(_activity(app, "integration.decrypt_failed")) == 1
