"""The limits editor, in Chromium: an admin sets a token's rate limit in place, is asked to
confirm before an allowlist shuts out the address she is using, and sets the organization's
default on the token policy page; the panel passes axe and fits a 390 px phone."""

import pytest
from django.conf import settings

from tests.browser.conftest import log_in
from tests.browser.portal_pages import accessible_and_fits
from tokens.models import AccessToken, Limits

pytestmark = pytest.mark.browser


def _token_page(page, demo):
    token = AccessToken.objects.get(organization=demo, name="CI deploy")
    log_in(page, "admin@acme.test", settings.DEMO_PASSWORD)
    page.goto(f"/orgs/{demo.public_id}/developer/tokens/{token.pk}/")
    return token


def test_an_admin_sets_a_rate_limit_in_place(page, demo):
    token = _token_page(page, demo)
    page.get_by_label("One per line: a name").fill("burst 100 60")
    page.get_by_role("button", name="Save limits").click()
    assert page.locator("#limits [role=status]").inner_text() == "Limits saved."
    assert Limits.objects.get(credential_id=token.pk).rate_limits[0]["limit"] == 100
    accessible_and_fits(page)


def test_a_bad_range_is_announced_beside_its_field(page, demo):
    _token_page(page, demo)
    page.get_by_label("IPv4 and IPv6 ranges").fill("10.0.0.300/8")
    page.get_by_role("button", name="Save limits").click()
    field = page.locator("#limits-allowlist")
    field.wait_for()
    page.locator("#limits-allowlist-error").wait_for()
    assert field.get_attribute("aria-invalid") == "true"
    assert "limits-allowlist-error" in field.get_attribute("aria-describedby")
    accessible_and_fits(page)


def test_locking_out_ones_own_address_asks_first(page, demo):
    token = _token_page(page, demo)
    page.get_by_label("IPv4 and IPv6 ranges").fill("203.0.113.0/24")
    page.get_by_role("button", name="Save limits").click()
    confirm = page.get_by_label("Save anyway")
    confirm.wait_for()
    assert not Limits.objects.filter(credential_id=token.pk).exists()
    confirm.check()
    page.get_by_role("button", name="Save limits").click()
    page.locator("#limits [role=status]").wait_for()
    assert Limits.objects.get(credential_id=token.pk).allowlist == ["203.0.113.0/24"]


def test_the_organizations_default_is_set_on_the_policy_page(page, demo):
    log_in(page, "admin@acme.test", settings.DEMO_PASSWORD)
    page.goto(f"/orgs/{demo.public_id}/admin/token-policy/")
    page.get_by_label("One per line: a name").fill("default 1000 60")
    page.get_by_role("button", name="Save limits").click()
    page.locator("#limits [role=status]").wait_for()
    assert Limits.objects.get(organization=demo, credential_id__isnull=True).rate_limits
    accessible_and_fits(page)
