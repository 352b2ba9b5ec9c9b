"""In Chromium: the credential pages (tokens, API keys, OAuth clients) after issue 12.

Form errors render in place with DEBUG on and off; every action that creates or changes a
secret is Post/Redirect/Get, so reloading its result page, or going back and submitting
the same form again, creates and rotates nothing and never shows the secret twice.
"""

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, issue, make_api_key, make_client
from tokens.models import AccessToken, ApiKey, Application

pytestmark = pytest.mark.browser

ALREADY_SHOWN = "This secret was already shown"


def submit_again(page, opener, button):
    """Back on the form (as the browser kept it, with its submission id), submit it again as it was."""
    summary = page.locator("summary", has_text=opener)
    if not page.get_by_role("button", name=button).is_visible():
        summary.click()
    page.get_by_role("button", name=button).click()


@pytest.fixture
def plain_page(browser, live_server):
    """A browser with JavaScript off: forms post the old way and the result page is in the address bar."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def developer_page(page, org, path):
    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/{path}")


# Form errors in place


@pytest.mark.parametrize("debug", [False, True], ids=["DEBUG off", "DEBUG on"])
def test_form_errors_render_in_place_and_keep_the_page(
    page, live_server, dev, org, settings, debug, transactional_db
):
    cache.clear()
    settings.DEBUG = debug
    developer_page(page, org, "tokens/")
    # Under DEBUG django-htmx adds the script that used to replace the page with any 400.
    assert (page.locator('script[src*="django-htmx.js"]').count() == 1) is debug

    page.get_by_text("Generate new token").click()
    page.get_by_role("radiogroup", name="Access to Account").get_by_label("read").check()
    page.get_by_role("button", name="Generate token").click()
    page.locator("#name-error", has_text="Give the token a name").wait_for()
    assert page.get_by_role("navigation", name="Developer").is_visible()  # the page is still there
    assert page.locator("#token-list").count() == 1
    assert page.locator("link[rel=stylesheet]").count() >= 1
    assert not AccessToken.objects.exists()

    page.goto(f"/orgs/{org.public_id}/developer/api-keys/")
    page.get_by_text("Create API key", exact=True).click()
    page.get_by_role("button", name="Create key").click()
    page.locator("#key-name-error").wait_for()
    assert page.get_by_role("navigation", name="Developer").is_visible()
    assert not ApiKey.objects.exists()

    page.goto(f"/orgs/{org.public_id}/developer/oauth-clients/")
    page.locator("summary", has_text="Register client").click()
    page.locator("#new-client-name").fill("App")
    page.locator("#new-redirect-uris").fill("http://app.example.com/cb")
    page.get_by_role("button", name="Register client").click()
    page.get_by_text("must use https").wait_for()
    assert page.get_by_role("navigation", name="Developer").is_visible()
    assert not Application.objects.exists()


# Post/Redirect/Get: reload and back never create or rotate twice


def reload_shows_nothing_new(page, secret, count):
    """Reload the result page: the secret is gone, "already shown" says so, and nothing was added."""
    before = count()
    page.reload()
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert secret not in page.content()
    assert count() == before


def test_token_create_and_rotate_result_pages_survive_reload_and_resubmit(
    plain_page, live_server, dev, org, transactional_db
):
    cache.clear()
    page = plain_page
    count = AccessToken.objects.personal().count
    developer_page(page, org, "tokens/")
    page.get_by_text("Generate new token").click()
    page.locator("#id_name").fill("CI")
    page.get_by_label("All of Account").check()
    page.get_by_role("button", name="Generate token").click()
    secret = page.locator("#new-token-secret").inner_text()
    assert secret.startswith("kw_pat_") and "/secret" in page.url
    assert count() == 1
    reload_shows_nothing_new(page, secret, count)

    page.go_back()  # the form, with the submission id it was sent with
    submit_again(page, "Generate new token", "Generate token")
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert count() == 1

    page.goto(f"/orgs/{org.public_id}/developer/tokens/{AccessToken.objects.get().pk}/")
    page.get_by_label("1 hour").check()
    page.get_by_role("button", name="Rotate…").click()
    page.get_by_text("The old secret keeps working for 1 hour, until").wait_for()
    assert count() == 1  # asking changed nothing
    page.get_by_role("button", name="Rotate now").click()
    rotated = page.locator("#new-token-secret").inner_text()
    assert rotated != secret and count() == 2
    reload_shows_nothing_new(page, rotated, count)
    page.go_back()
    page.get_by_role("button", name="Rotate now").click()
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert count() == 2


def test_api_key_create_and_rotate_result_pages_survive_reload_and_resubmit(
    plain_page, live_server, dev, org, transactional_db
):
    cache.clear()
    page = plain_page
    count = ApiKey.objects.count
    developer_page(page, org, "api-keys/")
    page.get_by_text("Create API key", exact=True).click()
    page.locator("#key-name").fill("server")
    page.get_by_label("All of Account").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-secret").inner_text()
    assert secret.startswith("kw_sk_") and count() == 1
    assert page.locator("#api-key-acts-as").inner_text() == "Acme (organization)"
    reload_shows_nothing_new(page, secret, count)
    page.go_back()
    submit_again(page, "Create API key", "Create key")
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert count() == 1

    key = ApiKey.objects.get()
    page.goto(f"/orgs/{org.public_id}/developer/api-keys/{key.pk}/")
    page.get_by_label("None: the old secret stops working at once").check()
    page.get_by_role("button", name="Rotate…").click()
    page.get_by_text("The old secret stops working at once").first.wait_for()
    page.get_by_role("button", name="Rotate now").click()
    rotated = page.locator("#new-key-secret").inner_text()
    assert rotated != secret
    digest = ApiKey.objects.get().secret_digest
    reload_shows_nothing_new(page, rotated, count)
    page.go_back()
    page.get_by_role("button", name="Rotate now").click()
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert ApiKey.objects.get().secret_digest == digest  # not rotated a second time


def test_oauth_register_and_regenerate_result_pages_survive_reload_and_resubmit(
    plain_page, live_server, dev, org, transactional_db
):
    cache.clear()
    page = plain_page
    count = Application.objects.count
    developer_page(page, org, "oauth-clients/")
    page.locator("summary", has_text="Register client").click()
    page.locator("#new-client-name").fill("Reporting app")
    page.locator("#new-redirect-uris").fill("https://app.example.com/cb")
    page.get_by_role("button", name="Register client").click()
    secret = page.locator("#oauth-client-secret").inner_text()
    assert len(secret) == 128 and count() == 1
    reload_shows_nothing_new(page, secret, count)
    page.go_back()
    submit_again(page, "Register client", "Register client")
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert count() == 1

    page.goto(f"/orgs/{org.public_id}/developer/oauth-clients/{Application.objects.get().pk}/")
    page.get_by_role("link", name="Regenerate secret…").click()
    page.get_by_text("stops working at once").first.wait_for()
    page.get_by_role("button", name="Regenerate now").click()
    regenerated = page.locator("#oauth-client-secret").inner_text()
    assert regenerated != secret
    stored = Application.objects.get().client_secret
    reload_shows_nothing_new(page, regenerated, count)
    page.go_back()
    page.get_by_role("button", name="Regenerate now").click()
    page.get_by_text(ALREADY_SHOWN).wait_for()
    assert Application.objects.get().client_secret == stored  # the secret just copied still works


def test_with_javascript_a_reload_after_creating_shows_the_list_and_creates_nothing(
    page, live_server, dev, org, transactional_db
):
    cache.clear()
    developer_page(page, org, "tokens/")
    page.get_by_text("Generate new token").click()
    page.locator("#id_name").fill("CI")
    page.get_by_role("radiogroup", name="Access to Account").get_by_label("read").check()
    page.get_by_role("button", name="Generate token").click()
    secret = page.locator("#new-token-secret").inner_text()
    page.reload()
    assert secret not in page.content()
    assert AccessToken.objects.personal().count() == 1
    assert page.locator("#token-list tbody tr").count() == 1


LIVE_REGIONS_TEXT = """[...document.querySelectorAll('[aria-live], [role=status], [role=alert]')]
    .map((el) => el.textContent).join(' ')"""


def test_focus_moves_to_the_new_secret_and_copied_is_announced_without_it(
    page, live_server, dev, org, transactional_db
):
    cache.clear()
    developer_page(page, org, "tokens/")
    page.get_by_text("Generate new token").click()
    page.locator("#id_name").fill("CI")
    page.get_by_role("radiogroup", name="Access to Account").get_by_label("read").check()
    page.get_by_role("button", name="Generate token").click()
    secret = page.locator("#new-token-secret").inner_text()
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'token-secret-panel'"
    )
    page.locator('button[data-copy="#new-token-secret"]').click()
    status = page.locator("#token-secret-panel [data-copy-status]")
    status.filter(has_text="copied").wait_for()
    assert status.inner_text() == "The secret was copied to the clipboard."
    assert secret not in page.evaluate(LIVE_REGIONS_TEXT)


# Expiry, acts-as, the picker


def test_expiry_lines_and_badges(page, live_server, dev, org, transactional_db):
    import datetime

    from django.utils import timezone

    cache.clear()
    soon, _ = issue(dev, name="soon", expires_at=timezone.now() + datetime.timedelta(days=3))
    later, _ = issue(dev, name="later", expires_at=timezone.now() + datetime.timedelta(days=30))
    developer_page(page, org, "tokens/")
    soon_row = page.locator(f"#token-row-{soon.pk}")
    assert "(in 3 days)" in soon_row.inner_text() and "expiring soon" in soon_row.inner_text()
    assert "UTC" in soon_row.inner_text()
    later_row = page.locator(f"#token-row-{later.pk}")
    assert (
        "(in 30 days)" in later_row.inner_text() and "expiring soon" not in later_row.inner_text()
    )
    page.goto(f"/orgs/{org.public_id}/developer/tokens/{soon.pk}/")
    assert page.locator("#token-expiry").inner_text().startswith("Expires on ")


def test_the_picker_sets_a_domain_by_level_and_filters(
    page, live_server, dev, org, transactional_db
):
    cache.clear()
    developer_page(page, org, "tokens/")
    page.get_by_text("Generate new token").click()
    picker = page.locator("[data-scope-picker]")
    assert (
        picker.get_by_role("link", name="What each scope allows").get_attribute("href")
        == "/api/docs/scopes/"
    )
    picker.get_by_role("radiogroup", name="Access to Account").get_by_label("all").check()
    assert picker.locator('input[value="read.me"]').is_checked()
    assert picker.locator('input[value="update.me"]').is_checked()
    assert picker.locator('input[name="all_of"][value="Account"]').is_checked()
    picker.get_by_role("radiogroup", name="Access to Account").get_by_label("none").check()
    assert not picker.locator('input[value="read.me"]').is_checked()
    picker.get_by_label("Filter scopes").fill("webhooks")
    assert picker.locator('[data-domain="account"]').is_hidden()
    assert picker.locator('input[value="read.webhooks"]').is_visible()


def test_an_api_key_of_the_organization_acts_as_it_in_words(
    page, live_server, alice, org, transactional_db
):
    cache.clear()
    key, _ = make_api_key(alice, scopes=("read.me",), name="org key")
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/api-keys/")
    row = page.locator(f"#api-key-{key.pk}")
    assert "Acme (organization)" in row.inner_text() and "keyward.invalid" not in row.inner_text()


def test_oauth_client_detail_opens_in_place_from_the_list(
    page, live_server, dev, org, transactional_db
):
    cache.clear()
    make_client(dev, name="Reporting app")
    developer_page(page, org, "oauth-clients/")
    page.get_by_role("link", name="Reporting app").click()
    page.locator("#oauth-client-panel #oauth-client-detail").wait_for()
    assert page.locator(
        "#oauth-client-list"
    ).is_visible()  # the list stays; the detail opened in place
