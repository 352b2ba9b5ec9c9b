"""In Chromium, as Acme's admin: the audit log filters in place with the filters in the URL, its
export link carries them, and on a phone it reads as cards with nothing to scroll sideways."""

import pytest

from tests.browser.conftest import log_in
from tests.browser.portal_pages import unreachable_scroll_regions
from tests.factories import PASSWORD, issue
from tokens.personal import services

pytestmark = pytest.mark.browser


def test_filtering_the_audit_log_narrows_it_and_keeps_the_filter_in_the_url(page, alice, dev, org):
    token, _ = issue(dev, name="Old laptop script")
    issue(dev, name="CI deploy")
    services.revoke_token(token=token, by=alice)
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/audit/")
    assert page.locator("#audit-list tbody tr").count() == 3
    page.get_by_label("Action").select_option("revoked")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/admin/audit/?**action=revoked**")
    assert page.locator("#audit-list tbody tr").count() == 1
    export = page.get_by_role("link", name="Download CSV of these filters")
    assert "action=revoked" in export.get_attribute("href")
    page.reload()
    assert page.locator("#audit-list tbody tr").count() == 1


def test_searching_the_audit_log_by_name(page, alice, dev, org):
    issue(dev, name="Billing sync")
    issue(dev, name="CI deploy")
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/audit/")
    page.get_by_label("Name or last four").fill("billing")
    page.get_by_label("Name or last four").press("Enter")
    page.wait_for_url("**q=billing**")
    assert page.locator("#audit-list tbody tr").count() == 1


def test_the_audit_log_reads_as_cards_on_a_phone(page, alice, dev, org):
    issue(dev, name="CI deploy")
    log_in(page, "alice@acme.test", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"/orgs/{org.public_id}/admin/audit/")
    assert page.locator("#audit-list thead").is_hidden()
    assert unreachable_scroll_regions(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
