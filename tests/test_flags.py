"""Feature flags: seeded on, switched by the instance Admin (audited), forced by the
environment, frozen in read-only mode, read through one cached service that gates features."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.errors import FeatureDisabled
from app.extensions import db
from app.models.activity import ActivityEntry
from app.models.flags import FeatureFlag
from app.services import flags
from config import FEATURE_FLAG_KEYS
from tests.factories import household, signed_in

URL = "/api/admin/feature-flags"
KEYS = [
    "import_plex_enabled",
    "import_csv_enabled",
    "tmdb_search_enabled",
    "lookup_upc_enabled",
    "recognize_cover_enabled",
]


@pytest.fixture
def root(app):
    return signed_in(app, "root@example.test", instance_admin=True)


@pytest.fixture(autouse=True)
def _fresh_cache(app):
    """Each test starts and ends with an empty flag cache (its changes are rolled back)."""
    with app.app_context():
        flags.invalidate_cache()
    yield
    with app.app_context():
        flags.invalidate_cache()


def _rows(response) -> dict[str, dict]:
    return {row["key"]: row for row in response.json["result"]}


def test_the_five_flags_exist_on_by_default_with_descriptions(app, root):
    response = root.get(URL)
    assert response.status_code == 200
    assert [row["key"] for row in response.json["result"]] == KEYS
    assert response.json["read_only"] is False and response.json["count"] == 5
    for row in response.json["result"]:
        assert row["enabled"] is True and row["stored_enabled"] is True
        assert row["env_override"] is None and row["description"]
        assert set(row) >= {"updated_at", "updated_by"}
    with app.app_context():  # the migration seeded the rows
        assert sorted(db.session.scalars(select(FeatureFlag.key))) == sorted(KEYS)
    assert tuple(flags.FLAGS) == FEATURE_FLAG_KEYS  # config validates overrides against these


def test_the_admin_switches_a_flag_and_it_is_audited_with_who_old_and_new(app, root):
    response = root.patch(f"{URL}/import_plex_enabled", json={"enabled": False})
    assert response.status_code == 200, response.json
    row = response.json["result"]
    assert (row["key"], row["enabled"], row["stored_enabled"]) == (
        "import_plex_enabled",
        False,
        False,
    )
    assert row["updated_by"] == root.user_id and row["updated_by_email"] == "root@example.test"
    assert row["updated_at"].endswith("Z")
    listed = _rows(root.get(URL))["import_plex_enabled"]
    assert listed["enabled"] is False and listed["updated_by"] == root.user_id
    with app.app_context():
        assert flags.is_enabled("import_plex_enabled") is False
        entries = db.session.scalars(
            select(ActivityEntry).where(ActivityEntry.action == "feature_flag.update")
        ).all()
    [entry] = entries
    assert entry.user_id == root.user_id and entry.user_email == "root@example.test"
    assert entry.details == {"key": "import_plex_enabled", "from": True, "to": False}
    assert entry.entity_type == "feature_flag" and entry.entity_id == "import_plex_enabled"
    assert entry.created_at is not None

    back = root.patch(f"{URL}/import_plex_enabled", json={"enabled": True}).json["result"]
    assert back["enabled"] is True
    root.patch(f"{URL}/import_plex_enabled", json={"enabled": True})  # no change, no entry
    with app.app_context():
        count = len(
            db.session.scalars(
                select(ActivityEntry).where(ActivityEntry.action == "feature_flag.update")
            ).all()
        )
    assert count == 2


def test_an_environment_override_wins_and_cannot_be_patched(app, root, monkeypatch):
    monkeypatch.setitem(app.config, "FEATURE_FLAG_OVERRIDES", {"tmdb_search_enabled": False})
    row = _rows(root.get(URL))["tmdb_search_enabled"]
    assert (row["enabled"], row["stored_enabled"], row["env_override"]) == (False, True, False)
    response = root.patch(f"{URL}/tmdb_search_enabled", json={"enabled": True})
    assert response.status_code == 409 and response.json["code"] == "conflict"
    assert "FEATURE_FLAG_TMDB_SEARCH_ENABLED" in response.json["message"]
    with app.app_context():
        assert flags.is_enabled("tmdb_search_enabled") is False
        with pytest.raises(FeatureDisabled):
            flags.require("tmdb_search_enabled")
    # Others are not affected.
    assert root.patch(f"{URL}/lookup_upc_enabled", json={"enabled": False}).status_code == 200


def test_an_override_can_also_force_a_flag_on(app, root, monkeypatch):
    root.patch(f"{URL}/lookup_upc_enabled", json={"enabled": False})
    monkeypatch.setitem(app.config, "FEATURE_FLAG_OVERRIDES", {"lookup_upc_enabled": True})
    row = _rows(root.get(URL))["lookup_upc_enabled"]
    assert (row["enabled"], row["stored_enabled"], row["env_override"]) == (True, False, True)
    with app.app_context():
        flags.require("lookup_upc_enabled")  # does not raise


def test_read_only_mode_refuses_every_change(app, root, monkeypatch):
    monkeypatch.setitem(app.config, "FEATURE_FLAGS_READ_ONLY", True)
    assert root.get(URL).json["read_only"] is True
    for key in KEYS:
        response = root.patch(f"{URL}/{key}", json={"enabled": False})
        assert response.status_code == 409 and response.json["code"] == "conflict"
        assert "FEATURE_FLAGS_READ_ONLY" in response.json["message"]
    assert all(row["enabled"] for row in root.get(URL).json["result"])


def test_an_unknown_flag_is_404(app, root):
    for method in ("patch",):
        response = getattr(root, method)(f"{URL}/warp_drive_enabled", json={"enabled": False})
        assert response.status_code == 404 and response.json["code"] == "not_found"


@pytest.mark.parametrize("body", [{}, {"enabled": "false"}, {"enabled": 0}, {"enabled": None},
                                  {"enabled": True, "extra": 1}])  # fmt: skip
def test_the_body_must_be_a_boolean(app, root, body):
    response = root.patch(f"{URL}/import_csv_enabled", json=body)
    assert response.status_code == 400 and response.json["code"] == "validation_failed"
    assert _rows(root.get(URL))["import_csv_enabled"]["enabled"] is True


def test_only_the_instance_admin_sees_or_changes_flags(app):
    home = household(app)  # a space owner, but not the instance Admin
    for response in (
        home.owner.get(URL),
        home.owner.patch(f"{URL}/import_csv_enabled", json={"enabled": False}),
        home.owner.patch(f"{URL}/no_such_flag", json={"enabled": False}),
    ):
        assert response.status_code == 403 and response.json["code"] == "forbidden"
    assert app.test_client().get(URL).status_code == 401
    with app.app_context():
        assert flags.is_enabled("import_csv_enabled") is True


def test_reads_are_cached_and_a_change_here_clears_the_cache(app, root, monkeypatch):
    monkeypatch.setitem(app.config, "FEATURE_FLAGS_CACHE_TTL_SECONDS", 300)
    with app.app_context():
        assert flags.is_enabled("recognize_cover_enabled") is True  # now cached
        # Another process changes the row: this one keeps its cached value until the TTL...
        db.session.execute(
            update(FeatureFlag)
            .where(FeatureFlag.key == "recognize_cover_enabled")
            .values(enabled=False)
        )
        db.session.commit()
        assert flags.is_enabled("recognize_cover_enabled") is True
        flags.invalidate_cache()  # ...or until it is cleared
        assert flags.is_enabled("recognize_cover_enabled") is False
    # A change through this process is seen at once.
    root.patch(f"{URL}/recognize_cover_enabled", json={"enabled": True})
    with app.app_context():
        assert flags.is_enabled("recognize_cover_enabled") is True
    root.patch(f"{URL}/recognize_cover_enabled", json={"enabled": False})
    with app.app_context():
        assert flags.is_enabled("recognize_cover_enabled") is False


def test_an_expired_cache_entry_is_read_again(app, monkeypatch):
    monkeypatch.setitem(app.config, "FEATURE_FLAGS_CACHE_TTL_SECONDS", 0)
    with app.app_context():
        assert flags.is_enabled("import_csv_enabled") is True
        db.session.execute(
            update(FeatureFlag).where(FeatureFlag.key == "import_csv_enabled").values(enabled=False)
        )
        db.session.commit()
        assert flags.is_enabled("import_csv_enabled") is False


def test_require_raises_feature_disabled_as_a_503(app, root):
    with app.app_context():
        flags.require("import_plex_enabled")  # on: nothing happens
    root.patch(f"{URL}/import_plex_enabled", json={"enabled": False})
    with app.app_context(), pytest.raises(FeatureDisabled) as info:
        flags.require("import_plex_enabled")
    assert (info.value.status, info.value.code) == (503, "feature_disabled")
    assert "import_plex_enabled" in info.value.message
    with app.app_context(), pytest.raises(ValueError):
        flags.is_enabled("no_such_flag")  # a typo in code fails loudly, not silently "on"


def test_a_flag_without_a_row_is_on_and_gets_one_when_switched(app, root):
    with app.app_context():
        db.session.execute(
            FeatureFlag.__table__.delete().where(FeatureFlag.key == "import_csv_enabled")
        )
        db.session.commit()
        assert flags.is_enabled("import_csv_enabled") is True
    assert _rows(root.get(URL))["import_csv_enabled"]["updated_at"] is None
    assert root.patch(f"{URL}/import_csv_enabled", json={"enabled": False}).status_code == 200
    with app.app_context():
        assert db.session.get(FeatureFlag, "import_csv_enabled").enabled is False


def test_the_flags_page_is_for_the_instance_admin(app, root):
    page = root.get("/feature-flags")  # also without a space of their own
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-page="flags"' in html and 'id="nav-feature-flags"' in html
    home = household(app)
    denied = home.owner.get("/feature-flags")
    assert denied.status_code == 403 and 'data-page="flags"' not in denied.get_data(as_text=True)
    assert 'id="nav-feature-flags"' not in home.owner.get("/profile").get_data(as_text=True)
