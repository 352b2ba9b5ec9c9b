"""In Chromium: every change says so in the page's live region, a form error takes the focus,
the token form previews its expiry date, the Org ID copies in one click, and an admin
withdraws a pending invitation."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Invitation
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, issue

pytestmark = pytest.mark.browser


def test_renaming_in_place_is_announced_in_the_status_region(page, dev, org):
    token, _ = issue(dev, name="CI")
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/tokens/{token.pk}/")
    page.locator("#rename-name").fill("CI (prod)")
    page.get_by_role("button", name="Rename").click()
    status = page.locator("#messages[role=status]")
    status.get_by_text("Token renamed.").wait_for()
    assert status.get_attribute("aria-live") == "polite"


def test_a_page_answered_with_form_errors_focuses_the_first_invalid_field(page, alice, org):
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/members/")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
    assert page.evaluate("document.activeElement.name") == "email"


def test_a_form_error_swapped_in_by_htmx_takes_the_focus(page, dev, org):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/tokens/")
    page.get_by_text("Generate new token").click()
    page.get_by_role("button", name="Generate token").click()  # no scope picked
    page.wait_for_function("document.activeElement && document.activeElement !== document.body")
    focused = page.evaluate(
        "document.activeElement.getAttribute('role') || document.activeElement.getAttribute('aria-invalid')"
    )
    assert focused in {"alert", "true"}


def test_choosing_a_lifetime_previews_the_expiry_date(page, dev, org):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/tokens/")
    page.get_by_text("Generate new token").click()
    page.locator("#id_expiry").select_option("7")
    day = (timezone.localtime() + datetime.timedelta(days=7)).date()
    expected = f"{day:%A}, {day:%B} {day.day}, {day.year}"
    assert page.locator("#expiry-preview").inner_text() == f"This token expires on {expected}."
    page.locator("#id_expiry").select_option("none")
    assert "never expires" in page.locator("#expiry-preview").inner_text()


def test_the_org_id_copies_in_one_click(page, dev, org):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/tokens/")
    page.get_by_role("button", name="Copy the Org ID").click()
    assert page.evaluate("navigator.clipboard.readText()") == org.public_id


def test_an_admin_withdraws_a_pending_invitation(page, alice, org):
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/members/")
    page.get_by_label("Email").fill("typo@acme.tset")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_role("button", name="Withdraw the invitation of typo@acme.tset").click()
    page.locator("#messages").get_by_text("Invitation of typo@acme.tset withdrawn.").wait_for()
    assert not Invitation.objects.filter(email="typo@acme.tset").exists()
