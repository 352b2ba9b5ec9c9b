"""Admin › Webhooks in the portal: create (the signing secret shown once), edit, pause, resume,
send a test event, rotate, delete; the same services, rules and audit as the API; admins only,
and another organization's webhook answers 404."""

import pytest
from django.urls import reverse

from chats import services
from chats.models import Webhook
from tests.factories import login
from tokens.models import AuditEvent

from .receiver import Receiver, verify

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/keyward"


@pytest.fixture(autouse=True)
def tasks_run_in_process(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


def url(name, org, webhook=None):
    args = [org.public_id] if webhook is None else [org.public_id, webhook.pk]
    return reverse(name, args=args)


def make_webhook(org, by, address=URL, categories=("credentials",)):
    return services.create_webhook(
        organization=org, url=address, event_categories=list(categories), by=by
    ).credential


def test_creating_a_webhook_shows_its_signing_secret_once(client, alice, org):
    login(client, alice)
    response = client.post(
        url("webhook_create", org), {"url": URL, "event_categories": ["credentials"]}
    )
    webhook = Webhook.objects.get(organization=org)
    assert response.status_code == 303
    assert response["Location"] == url("webhook_secret", org, webhook)
    first = client.get(response["Location"])
    assert first["Cache-Control"] == "no-store"
    secret = first.content.decode().split('id="webhook-secret">')[1].split("<")[0]
    assert secret.startswith("kw_whsec_") and secret.endswith(webhook.secret_last4)
    again = client.get(response["Location"]).content.decode()
    assert "already shown" in again and secret not in again


def test_creating_a_webhook_is_audited_like_through_the_api(client, alice, org):
    login(client, alice)
    client.post(url("webhook_create", org), {"url": URL, "event_categories": ["message"]})
    webhook = Webhook.objects.get(organization=org)
    assert AuditEvent.objects.filter(
        organization=org, action="issued", credential_kind="webhook", credential_id=webhook.pk
    ).exists()


def test_a_webhook_without_events_is_refused_in_place(client, alice, org):
    login(client, alice)
    response = client.post(url("webhook_create", org), {"url": URL})
    assert response.status_code == 400
    assert not Webhook.objects.exists()
    assert "Pick at least one kind of event." in response.content.decode()


def test_a_private_address_is_refused_as_through_the_api(client, alice, org, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    login(client, alice)
    response = client.post(
        url("webhook_create", org),
        {"url": "http://127.0.0.1/hook", "event_categories": ["credentials"]},
    )
    assert response.status_code == 400
    assert not Webhook.objects.exists()
    assert "may not point at loopback" in response.content.decode()


def test_editing_a_webhook_changes_its_url_and_events(client, alice, org):
    webhook = make_webhook(org, alice)
    login(client, alice)
    response = client.post(
        url("webhook_update", org, webhook),
        {"url": "https://other.example.com/in", "event_categories": ["message", "contact"]},
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.url, webhook.event_categories) == (
        "https://other.example.com/in",
        ["message", "contact"],
    )
    assert "saved" in client.get(response["Location"]).content.decode()


def test_pausing_stops_new_events_and_resuming_brings_them_back(client, alice, org):
    webhook = make_webhook(org, alice)
    login(client, alice)
    client.post(url("webhook_pause", org, webhook))
    webhook.refresh_from_db()
    assert webhook.active is False
    assert AuditEvent.objects.filter(credential_id=webhook.pk, detail="paused").exists()
    client.post(url("webhook_resume", org, webhook))
    webhook.refresh_from_db()
    assert webhook.active is True


def test_a_paused_webhook_is_sent_no_new_event(alice, org):
    from chats.events import subscribers

    webhook = make_webhook(org, alice)
    services.update_webhook(webhook=webhook, by=alice, active=False)
    assert subscribers(org.pk, "credential.created") == []


def test_a_test_event_reaches_the_receiver_signed(
    client, alice, org, django_capture_on_commit_callbacks
):
    login(client, alice)
    with Receiver() as receiver:
        client.post(
            url("webhook_create", org), {"url": receiver.url, "event_categories": ["message"]}
        )
        webhook = Webhook.objects.get(organization=org)
        page = client.get(url("webhook_secret", org, webhook)).content.decode()
        secret = page.split('id="webhook-secret">')[1].split("<")[0]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url("webhook_test", org, webhook))
    assert response.status_code == 302
    assert response["Location"] == url("webhook_deliveries", org, webhook)
    assert [event["type"] for event in receiver.events()] == ["webhook.test"]
    headers, body = receiver.received[0]
    assert verify(secret, headers["Keyward-Signature"], body)
    assert "webhook.test" in client.get(response["Location"]).content.decode()


def test_rotating_asks_first_then_shows_the_new_secret_once(client, alice, org):
    webhook = make_webhook(org, alice)
    before = webhook.secret_last4
    login(client, alice)
    assert client.get(url("webhook_rotate", org, webhook)).status_code == 200
    webhook.refresh_from_db()
    assert webhook.secret_last4 == before
    response = client.post(url("webhook_rotate", org, webhook))
    assert response.status_code == 303
    webhook.refresh_from_db()
    page = client.get(response["Location"]).content.decode()
    assert f"{webhook.secret_last4}</code>" in page and "new signing secret" in page
    assert AuditEvent.objects.filter(credential_id=webhook.pk, action="rotated").exists()


def test_deleting_asks_first_then_deletes(client, alice, org):
    webhook = make_webhook(org, alice)
    login(client, alice)
    assert client.get(url("webhook_delete", org, webhook)).status_code == 200
    assert Webhook.objects.filter(pk=webhook.pk).exists()
    response = client.post(url("webhook_delete", org, webhook))
    assert response.status_code == 302
    assert not Webhook.objects.filter(pk=webhook.pk).exists()
    assert AuditEvent.objects.filter(credential_id=webhook.pk, action="revoked").exists()


@pytest.mark.parametrize(
    "name", ["webhook_detail", "webhook_rotate", "webhook_delete", "webhook_secret"]
)
def test_another_organizations_webhook_page_answers_404(client, alice, mallory, other_org, name):
    theirs = make_webhook(other_org, mallory)
    login(client, alice)
    assert client.get(url(name, alice.memberships.first().organization, theirs)).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["webhook_update", "webhook_pause", "webhook_resume", "webhook_test", "webhook_delete"],
)
def test_another_organizations_webhook_cannot_be_changed(client, alice, mallory, other_org, name):
    theirs = make_webhook(other_org, mallory)
    login(client, alice)
    org = alice.memberships.first().organization
    response = client.post(url(name, org, theirs), {"url": URL, "event_categories": ["message"]})
    assert response.status_code == 404
    assert Webhook.objects.get(pk=theirs.pk).url == URL


def test_a_developer_gets_403(client, alice, dev, org):
    webhook = make_webhook(org, alice)
    login(client, dev)
    assert client.get(url("webhook_detail", org, webhook)).status_code == 403
    assert client.post(url("webhook_delete", org, webhook)).status_code == 403
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_the_api_pauses_and_sends_a_test_event_through_the_same_services(api, alice, org):
    from tests.factories import bearer, issue

    _token, secret = issue(alice, scopes=["admin"])
    webhook = make_webhook(org, alice)
    paused = api.patch(
        f"/api/v1/webhooks/{webhook.pk}", {"active": False}, format="json", **bearer(secret)
    )
    assert paused.status_code == 200 and paused.json()["active"] is False
    sent = api.post(f"/api/v1/webhooks/{webhook.pk}/test", **bearer(secret))
    assert sent.status_code == 202 and sent.json()["eventType"] == "webhook.test"
