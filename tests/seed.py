"""Realistic rows in every table, for the migration rehearsal.

When a change adds a table, add rows for it here: the rehearsal fails on an empty table.
"""

from __future__ import annotations

from flask import Flask

from app.extensions import db
from app.models.media import MediaMetadata, MediaVariant
from app.services import (
    activity,
    flags,
    imports,
    integrations,
    invites,
    media,
    merge,
    sessions,
    tenancy,
)
from app.services.context import RequestInfo

PASSWORD = "rehearsal-password-1"
INFO = RequestInfo(ip="192.0.2.10", user_agent="Rehearsal/1.0", request_id="seed")


def seed_every_table(app: Flask) -> None:
    with app.app_context():
        sm = app.appbuilder.sm
        sm.bootstrap()
        admin_role, member_role = sm.find_role("Admin"), sm.find_role("Member")
        admin = sm.add_user("alice", "Alice", "Admin", "alice@example.test", admin_role, PASSWORD)
        members = [
            sm.add_user(name, name.title(), "Member", f"{name}@example.test", member_role, PASSWORD)
            for name in ("bob", "carol", "dave")
        ]
        sm.add_group("household", "Household", "Everyone at home", [member_role], members)
        sm.add_register_user("erin", "Erin", "Pending", "erin@example.test", PASSWORD)
        sm.create_api_key(admin, "backup script")
        sm.create_api_key(members[0], "phone shortcut")

        home, _movies = tenancy.create_space_for(admin, "Home", info=INFO)
        cabin, _cabin_movies = tenancy.create_space_for(members[1], "Cabin", info=INFO)
        db.session.commit()
        scope = tenancy.resolve_scope(admin, space_id=home.id)
        tenancy.create_library(scope, "Kids", "Cartoons and family films", INFO)
        for user, role in ((members[0], "member"), (members[2], "viewer")):
            db.session.add(tenancy.SpaceMembership(space_id=home.id, user_id=user.id, role=role))
            tenancy.set_active_scope(user.id, home.id, None)
        invites.create_invite(
            scope, email="frank@example.test", role="member", expires_in_days=7, info=INFO
        )
        cabin_scope = tenancy.resolve_scope(members[1], space_id=cabin.id)
        invites.create_invite(cabin_scope, email=None, role="viewer", expires_in_days=3, info=INFO)
        for user in (admin, members[0]):
            sessions.create_session(
                user.id, info=INFO, ttl_days=7, max_per_user=10, data={"_fresh": True}
            )
        activity.record(
            "auth.login",
            actor=admin,
            space_id=home.id,
            entity_type="user",
            entity_id=admin.id,
            info=INFO,
        )
        db.session.commit()
        series = media.create_media(
            scope,
            {
                "title": "Twin Peaks", "media_type": "tv_series", "network": "ABC", "year": 1990,
                "genres": ["Drama", "Mystery"], "directors": ["David Lynch"],
                "cast": ["Kyle MacLachlan", "Sheryl Lee"],
            },
            INFO,
        )  # fmt: skip
        media.set_seasons(
            scope,
            series.id,
            [
                {"season_number": 1, "expected_episodes": 8, "available_episodes": 8},
                {"season_number": 2, "expected_episodes": 22, "available_episodes": 20},
            ],
            INFO,
        )
        film = media.create_media(
            scope,
            {
                "title": "The Straight Story", "year": 1999, "format": "DVD", "rating": 8.0,
                "genres": ["Drama"], "directors": ["David Lynch"], "cast": ["Richard Farnsworth"],
            },
            INFO,
        )  # fmt: skip
        db.session.add(
            MediaVariant(media_id=film.id, edition="Criterion", format="Blu-ray",
                         resolution="1080p", width=1920, height=1080)
        )  # fmt: skip
        db.session.add(MediaMetadata(media_id=film.id, key="disc_release_date", value="2000-11-07"))
        db.session.commit()
        # Two duplicates merged into the film: one merge stays, the other is undone.
        for title, undo in (("Straight Story", False), ("The straight story", True)):
            twin = media.create_media(scope, {"title": title, "year": 1999, "format": "VHS"}, INFO)
            _kept, record = merge.merge_media(scope, film.id, [twin.id], INFO)
            if undo:
                merge.undo_merge(scope, record.id, INFO)
        # Integration settings (secrets encrypted) and one switched feature flag.
        integrations.update_settings(
            scope,
            {
                "tmdb_api_key": "rehearsal-tmdb-key-0123456789abcdef",
                "barcode_preset": "barcodelookup",
                "plex_api_url": "http://plex.lan:32400",
                "plex_api_token": "rehearsal-plex-token-0123",
                "plex_sections": [{"key": "1", "title": "Movies", "type": "movie"}],
            },
            INFO,
        )
        flags.set_flag(admin, "recognize_cover_enabled", False, INFO)
        # A finished CSV import (rows, identifiers) and a queued one that still holds its input.
        csv_data = b"title,year,upc\nThe Elephant Man,1980,012345678905\nDune,,\nBad,abc,\n"
        finished, _queued = [
            imports.start_job(
                scope, "csv_generic", data=csv_data, file_name="seed.csv", options={},
                library_id=None, info=INFO,
            )
            for _ in range(2)
        ]  # fmt: skip
        imports.run_job(finished)
        db.session.remove()
