"""In Chromium, as Acme's admin: create a webhook in the portal, copy its signing secret from
the one page that shows it, send a test event, redeliver it, pause, rotate and delete."""

import pytest

from chats.models import Webhook
from tests.browser.conftest import log_in
from tests.browser.portal_pages import hidden_table_actions, unreachable_scroll_regions
from tests.chats.receiver import Receiver
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def tasks_run_in_process(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_an_admin_manages_a_webhook_from_creation_to_deletion(page, alice, org):
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/webhooks/")
    with Receiver() as receiver:
        page.get_by_text("Create webhook").first.click()
        page.get_by_label("Payload URL").fill(receiver.url)
        page.get_by_label("message: Messages posted in conversations").check()
        page.get_by_role("button", name="Create webhook").click()

        panel = page.locator("#webhook-secret-panel")
        assert panel.is_visible()
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("kw_whsec_")
        panel.get_by_role("button", name="Copy").click()
        assert page.evaluate("navigator.clipboard.readText()") == secret
        page.reload()
        assert secret not in page.content()

        page.get_by_role("button", name="Send a test event").click()
        page.get_by_role("status").filter(has_text="Test event sent").wait_for()
        assert [e["type"] for e in receiver.events()] == ["webhook.test"]
        page.get_by_role("button", name="Redeliver").first.click()
        page.get_by_role("status").filter(has_text="will be sent again").wait_for()
        assert len(receiver.received) == 2
        page.set_viewport_size({"width": 1280, "height": 900})
        assert hidden_table_actions(page) == []
        page.set_viewport_size({"width": 390, "height": 900})
        assert unreachable_scroll_regions(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="← Webhook").click()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("status").filter(has_text="paused").wait_for()
    assert Webhook.objects.get(organization=org).active is False

    page.get_by_role("link", name="Rotate signing secret").click()
    page.get_by_role("button", name="Rotate signing secret").click()
    assert page.locator("#webhook-secret").inner_text() != secret

    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete webhook").click()
    page.get_by_role("status").filter(has_text="deleted").wait_for()
    assert not Webhook.objects.filter(organization=org).exists()


def test_a_webhook_form_error_is_shown_in_place_and_focused(page, alice, org):
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/admin/webhooks/")
    page.get_by_text("Create webhook").first.click()
    page.get_by_label("Payload URL").fill("https://hooks.example.com/in")
    page.get_by_role("button", name="Create webhook").click()
    assert page.get_by_text("Pick at least one kind of event.").is_visible()
    assert not Webhook.objects.exists()
