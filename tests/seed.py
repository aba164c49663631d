"""Realistic rows in every table, for the migration rehearsal.

When a change adds a table, add rows for it here: the rehearsal fails on an empty table.
"""

from __future__ import annotations

from flask import Flask

from app.extensions import db

PASSWORD = "rehearsal-password-1"


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
        db.session.commit()
        db.session.remove()
