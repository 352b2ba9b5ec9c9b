"""Usage you can see, in Chromium: a credential's page draws its requests (no script, no CDN),
switches period, shows the same numbers as a table, passes axe and fits a 390 px phone; the
list draws a sparkline per row; the admins' usage page names the busiest credentials."""

import pytest
from django.conf import settings

from tests.browser.conftest import log_in
from tests.browser.portal_pages import accessible_and_fits
from tokens.models import AccessToken

pytestmark = pytest.mark.browser


def test_a_developer_reads_a_tokens_usage_chart_and_its_table(page, demo):
    token = AccessToken.objects.get(organization=demo, name="CI deploy")
    log_in(page, "dev@acme.test", settings.DEMO_PASSWORD)
    page.goto(f"/orgs/{demo.public_id}/developer/tokens/{token.pk}/")
    chart = page.locator("svg.usage-chart")
    assert chart.is_visible()
    assert chart.locator("rect.usage-ok").count() > 0
    assert "requests" in page.locator("#usage-totals").inner_text()
    page.get_by_text("The same as a table").click()
    assert page.locator(".usage-table tbody tr").count() == 24
    assert "GET /api/v1/conversations" in page.locator("#usage-operations").inner_text()
    accessible_and_fits(page)


def test_the_period_links_redraw_the_chart_by_day(page, demo):
    token = AccessToken.objects.get(organization=demo, name="CI deploy")
    log_in(page, "dev@acme.test", settings.DEMO_PASSWORD)
    page.goto(f"/orgs/{demo.public_id}/developer/tokens/{token.pk}/")
    page.get_by_role("link", name="30d").click()
    page.wait_for_url("**period=30d**")
    assert "per day" in page.locator(".usage-legend").inner_text()
    assert page.locator("svg.usage-chart rect").count() >= 30


def test_every_row_of_the_token_list_has_a_sparkline(page, demo):
    log_in(page, "dev@acme.test", settings.DEMO_PASSWORD)
    page.goto(f"/orgs/{demo.public_id}/developer/tokens/")
    row = page.locator("#token-list tbody tr", has_text="CI deploy")
    assert (
        row.locator("svg.sparkline")
        .get_attribute("aria-label")
        .endswith("requests in the last 24 hours")
    )
    accessible_and_fits(page)


def test_an_admin_reads_the_organizations_usage(page, demo):
    log_in(page, "admin@acme.test", settings.DEMO_PASSWORD)
    page.goto(f"/orgs/{demo.public_id}/admin/usage/")
    assert page.locator("svg.usage-chart").is_visible()
    assert page.locator("#busiest tbody tr").count() >= 3
    assert page.get_by_role("heading", name="No use in 30 days or more").is_visible()
    accessible_and_fits(page)
