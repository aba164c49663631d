"""A household from scratch, in the browser: the first admin registers, invites a member who
registers in another browser, spaces are switched, and each role sees only its screens."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

ADMIN_PASSWORD = "first-admin-password"
MEMBER_PASSWORD = "invited-member-password"


def _register(page, base: str, path: str, name: str, email: str, password: str) -> None:
    page.goto(f"{base}{path}")
    page.fill("#reg-name", name)
    page.fill("#reg-email", email)
    page.fill("#reg-password", password)
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Welcome')")


def _nav_texts(page) -> str:
    return page.inner_text("header")


def test_a_household_is_set_up_in_the_browser(empty_live_app, new_page, tmp_path):
    base = empty_live_app.url
    admin = new_page()

    # The first registration creates the admin, the space "Home" and the library "Movies".
    _register(admin, base, "/register", "Ada Admin", "ada@example.test", ADMIN_PASSWORD)
    assert admin.inner_text("#nav-space-name") == "Home"
    admin.click("#nav-library > a")
    assert "Movies" in admin.inner_text("#nav-library")
    for link in ("#nav-members", "#nav-invitations", "#nav-activity", "#nav-manage-libraries"):
        assert admin.is_visible(link) or admin.query_selector(link) is not None

    # An invitation link, shown once.
    admin.goto(f"{base}/invitations")
    admin.select_option("#invite-form select[name=role]", "member")
    admin.click("#invite-form button[type=submit]")
    admin.wait_for_selector("#invite-link:not(.hidden)")
    invite_url = admin.get_attribute("#invite-link", "data-invite-url")
    assert "/register?invite=" in invite_url
    admin.wait_for_selector("#invites-body tr td:has-text('anyone with the link')")

    # The invited member registers in a separate browser context.
    member = new_page()
    path = invite_url[invite_url.index("/register") :]
    _register(member, base, path, "Mo Member", "mo@example.test", MEMBER_PASSWORD)
    assert member.inner_text("#nav-space-name") == "Home"
    for link in ("#nav-members", "#nav-invitations", "#nav-activity"):
        assert member.query_selector(link) is None, f"a member sees {link}"
    member.click("#nav-library > a")
    assert member.query_selector("#nav-manage-libraries") is None
    for page_path in ("/members", "/invitations", "/activity", "/libraries/manage"):
        response = member.goto(f"{base}{page_path}")
        assert response.status == 403
        assert "Not allowed" in member.inner_text("h1")

    # The admin sees the new member, opens the detail drawer and saves a new role.
    admin.goto(f"{base}/members")
    admin.click("#members-body tr:has-text('mo@example.test')")
    admin.wait_for_selector("#member-drawer:not(.hidden)")
    admin.select_option("#member-role", "viewer")
    admin.click("#member-role-form button[type=submit]")
    admin.wait_for_selector("#member-drawer [data-errors]:has-text('Saved.')")
    admin.wait_for_selector("#members-body tr:has-text('viewer')")

    # A second space, then back to Home with the switcher in the navigation.
    admin.goto(f"{base}/spaces")
    admin.fill("#space-form input[name=name]", "Cabin")
    admin.click("#space-form button[type=submit]")
    admin.wait_for_selector("#spaces-body tr:has-text('Cabin')")
    assert admin.inner_text("#nav-space-name") == "Cabin"
    admin.click("#nav-space > a")
    admin.click("[data-select-space]:has-text('Home')")
    admin.wait_for_selector("#nav-space-name:has-text('Home')")

    # The activity log tells the story; search applies on Enter.
    admin.goto(f"{base}/activity")
    admin.wait_for_selector("#activity-body tr td:has-text('invite.claimed')")
    log = admin.inner_text("#activity-body")
    for action in ("auth.register", "invite.create", "invite.claimed", "admin.user.role.update"):
        assert action in log
    admin.fill("#activity-form input[name=q]", "invite.claimed")
    admin.press("#activity-form input[name=q]", "Enter")
    admin.wait_for_selector("#activity-count:has-text('1 entries')")
    admin.screenshot(path=str(tmp_path / "activity.png"), full_page=True)

    assert admin.console_errors == [], admin.console_errors
    unexpected = [e for e in member.console_errors if "status of 403" not in e]
    assert len(member.console_errors) - len(unexpected) == 4  # the four refused pages
    assert unexpected == [], unexpected
