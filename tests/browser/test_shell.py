"""In Chromium: the skip link, focus on a new secret, a "Copied" that never reads the secret,
the current tab marked, and the switcher keeping the page."""

import pytest

from accounts.models import Membership, Organization, Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

FAKE_SECRET = "kw_pat_notarealsecretjustfortheshelltest0000"

# What a kind's view swaps in after a creation: the shared panel, as a live region.
PANEL = f"""
<div id="token-secret" class="secret-panel" role="status" data-secret-panel>
  <p><strong>Your new token is ready.</strong> Copy it now.</p>
  <div class="secret-row"><code id="new-token-secret">{FAKE_SECRET}</code>
  <button type="button" data-copy="#new-token-secret">Copy</button></div>
</div>"""


def test_the_skip_link_is_first_and_lands_on_the_content(page, dev, org, transactional_db):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_new_secret_takes_the_focus_and_copied_never_reads_it(page, dev, org, transactional_db):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/")
    page.evaluate(
        """(html) => {
        const holder = document.createElement("div");
        holder.innerHTML = html;
        document.querySelector("main").append(holder);
        holder.dispatchEvent(new CustomEvent("htmx:load", {bubbles: true, detail: {elt: holder}}));
    }""",
        PANEL,
    )
    assert page.evaluate("document.activeElement.id") == "new-token-secret"

    page.locator('button[data-copy="#new-token-secret"]').click()
    page.locator("#kw-announcer", has_text="Copied").wait_for(state="attached")
    live = page.evaluate("""() => [...document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')]
        .map((region) => region.textContent).join(' ')""")
    assert "Copied" in live
    assert FAKE_SECRET not in live
    assert page.evaluate("navigator.clipboard.readText()") == FAKE_SECRET


def test_a_result_page_with_a_secret_focuses_it_on_load(page, dev, org, transactional_db):
    log_in(page, "dev@acme.test", PASSWORD)
    page.route(
        "**/orgs/*/developer/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body=f'<!doctype html><html lang="en"><head><title>t</title><script src="/static/js/keyward.js" defer>'
            f"</script></head><body><main>{PANEL}</main></body></html>",
        ),
    )
    page.goto(f"/orgs/{org.public_id}/developer/")
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'new-token-secret'"
    )
    assert page.locator("#token-secret").get_attribute("role") is None


def test_the_current_tab_is_marked(page, dev, org, transactional_db):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/api-keys/")
    current = page.locator('nav[aria-label="Developer"] [aria-current="page"]')
    assert current.inner_text() == "API keys"
    assert page.locator('nav[aria-label="Sections"] [aria-current]').inner_text() == "Developer"


def test_switching_organization_keeps_the_page(page, alice, org, transactional_db):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.ADMIN)
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/audit/")
    page.get_by_label("Organization").select_option(label="Acme Labs")
    page.wait_for_url(f"**/orgs/{labs.public_id}/admin/audit/")
    assert page.locator("#org-id").inner_text() == labs.public_id


def test_a_phone_sees_the_whole_org_id_and_tabs_scroll_in_their_own_box(
    page, alice, org, transactional_db
):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/tokens/")
    org_id = page.locator("#org-id").bounding_box()
    assert org_id["x"] >= 0 and org_id["x"] + org_id["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tabs = page.locator('nav[aria-label="Developer"]')
    assert tabs.evaluate("nav => getComputedStyle(nav).overflowX") == "auto"


def _luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(x)) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one, two):
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_control_borders_have_3_to_1_contrast(page, alice, org, transactional_db):
    """WCAG 1.4.11: the edge of an input or button is visible against the page and the field."""
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/members/")
    colours = page.evaluate("""() => {
        const rgb = (value) => value.match(/\\d+/g).slice(0, 3);
        const page = rgb(getComputedStyle(document.body).backgroundColor);
        const controls = 'main input[type=email], main input[type=text], main select, main button:not(.link)';
        return [...document.querySelectorAll(controls)]
            .map((el) => [el.outerHTML.slice(0, 60), rgb(getComputedStyle(el).borderTopColor),
                          rgb(getComputedStyle(el).backgroundColor), page]);
    }""")
    assert colours
    for control, border, background, page_background in colours:
        assert _contrast(border, page_background) >= 3, control
        assert _contrast(border, background) >= 3 or _contrast(background, page_background) >= 3, (
            control
        )
