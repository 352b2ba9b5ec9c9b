"""In Chromium, as Acme's admin: the credential inventory's row actions are in sight at 1280 px,
its rows read as cards on a phone, and revoking from it comes back to it, filters kept.
(Every other admin table gets the same 1280 px check in test_every_page.py.)"""

import pytest

from tests.browser.conftest import log_in
from tests.browser.portal_pages import hidden_table_actions, unreachable_scroll_regions
from tests.factories import PASSWORD, issue, make_api_key
from tokens.models import AccessToken

pytestmark = pytest.mark.browser


def test_every_inventory_row_shows_its_action_at_1280_px(page, alice, dev, org):
    for n in range(3):
        issue(dev, name=f"A rather long token name for a deploy pipeline number {n}")
    make_api_key(alice, name="Order service with a long name")
    log_in(page, "alice@acme.test", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/orgs/{org.public_id}/admin/credentials/")
    assert page.locator("table.inventory a.button").count() == 4
    assert hidden_table_actions(page) == []


def test_the_inventory_reads_as_cards_on_a_phone(page, alice, dev, org):
    issue(dev, name="CI deploy")
    log_in(page, "alice@acme.test", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"/orgs/{org.public_id}/admin/credentials/")
    assert page.locator("table.inventory thead").is_hidden()
    assert page.locator("table.inventory td[data-label='Owner']").first.is_visible()
    assert unreachable_scroll_regions(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_revoking_from_the_inventory_returns_to_it_with_its_filters_and_says_what(
    page, alice, dev, org
):
    token, _ = issue(dev, name="Old laptop script")
    issue(dev, name="Keep me")
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/credentials/?q=laptop&kind=personal")
    page.get_by_role("link", name="Delete Token Old laptop script").click()
    assert page.get_by_role("link", name="← Every credential").is_visible()
    page.get_by_role("button", name="Delete this token").click()
    page.wait_for_url("**/admin/credentials/?q=laptop&kind=personal")
    assert page.get_by_role("status").filter(has_text="Old laptop script").is_visible()
    assert page.locator("#inv-q").input_value() == "laptop"
    assert AccessToken.objects.get(pk=token.pk).revoked_at is not None


def test_the_way_back_from_a_confirmation_opened_in_the_inventory_is_the_inventory(
    page, alice, dev, org
):
    issue(dev, name="CI deploy")
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/credentials/?state=active")
    page.get_by_role("link", name="Delete Token CI deploy").click()
    page.get_by_role("link", name="← Every credential").click()
    page.wait_for_url("**/admin/credentials/?state=active")
