"""Lifecycle webhooks against a real HTTP receiver: signed, retried, given up, logged."""

import datetime as dt
import re
import socket

import pytest
from django.utils import timezone

from chats import deliveries
from chats.events import emit
from chats.models import WebhookDelivery
from tests.factories import bearer, issue, login

from .receiver import Receiver, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_in_process(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


@pytest.fixture
def admin_secret(alice):
    _token, secret = issue(alice, scopes=["admin"])
    return secret


def subscribe(api, secret, url, categories=("credentials",)):
    """A webhook created through the API; returns (id, signing secret)."""
    response = api.post(
        "/api/v1/webhooks",
        {"url": url, "eventCategories": list(categories)},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"], response.json()["secret"]


def delivery_log(api, secret, hook):
    response = api.get(f"/api/v1/webhooks/{hook}/deliveries", **bearer(secret))
    assert response.status_code == 200
    return response.json()["results"]


def test_a_subscribed_webhook_receives_created_and_revoked_with_a_valid_signature(
    api, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        hook, signing_secret = subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            created = api.post(
                "/api/v1/tokens",
                {"name": "ci", "scopes": ["read.me"]},
                format="json",
                **bearer(admin_secret),
            )
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                api.delete(
                    f"/api/v1/tokens/{created.json()['id']}", **bearer(admin_secret)
                ).status_code
                == 204
            )
    assert [e["type"] for e in receiver.events()] == ["credential.created", "credential.revoked"]
    assert receiver.verified(signing_secret)
    assert not receiver.verified("kw_whsec_not-the-secret")
    data = receiver.events()[0]["data"]["credential"]
    assert (data["kind"], data["id"], data["name"]) == ("personal", created.json()["id"], "ci")
    assert (data["owner"], data["scopes"], data["last4"]) == (
        "alice@acme.test",
        ["read.me"],
        created.json()["token"][-4:],
    )
    assert created.json()["token"] not in repr(receiver.received)
    assert [d["status"] for d in delivery_log(api, admin_secret, hook)] == [
        "succeeded",
        "succeeded",
    ]


RFC_3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def moments(value, path=""):
    """(where, value) of every `…At` field, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.endswith("At") and inner is not None:
                yield f"{path}.{key}", inner
            yield from moments(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from moments(inner, f"{path}[{index}]")


def test_every_moment_in_a_webhook_body_is_rfc_3339_in_utc_with_z(
    api, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            issue(alice, name="expiring", expires_at=timezone.now() + dt.timedelta(days=3))
    (event,) = receiver.events()
    found = dict(moments(event))
    assert {".createdAt", ".data.credential.expiresAt"} <= set(found)
    assert {where: at for where, at in found.items() if not RFC_3339_UTC.match(at)} == {}


def test_a_webhook_of_other_categories_hears_nothing_of_credentials(
    api, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        subscribe(api, admin_secret, receiver.url, categories=["message"])
        with django_capture_on_commit_callbacks(execute=True):
            issue(alice, scopes=["read.me"])
    assert receiver.received == []


def test_a_receiver_answering_500_twice_gets_the_event_on_the_third_attempt(
    api, org, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver([500, 500]) as receiver:
        hook, signing_secret = subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expiring", {"credential": {"kind": "personal", "id": 1}})
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
        first_retry = delivery.next_attempt_at
        assert first_retry - delivery.last_attempt_at == dt.timedelta(minutes=1)
        deliveries.retry_due(now=first_retry)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at - first_retry == dt.timedelta(minutes=2)
        deliveries.retry_due(now=delivery.next_attempt_at)
    assert len(receiver.received) == 3
    assert receiver.verified(signing_secret, now=delivery.next_attempt_at.timestamp())
    [row] = delivery_log(api, admin_secret, hook)
    assert (row["status"], row["attempts"], row["responseStatus"], row["eventType"]) == (
        "succeeded",
        3,
        200,
        "credential.expiring",
    )
    assert row["responseMs"] is not None and row["nextAttemptAt"] is None


def test_a_timeout_is_retried(api, org, alice, admin_secret, django_capture_on_commit_callbacks):
    with Receiver(["hang"]) as receiver:
        subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expired", {})
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_error, delivery.response_status) == (
            "pending",
            "timed out",
            None,
        )
        deliveries.retry_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_a_refused_connection_is_retried(
    api, org, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        url = receiver.url
    subscribe(api, admin_secret, url)  # nobody listens there any more
    with django_capture_on_commit_callbacks(execute=True):
        emit(org, "credential.expired", {})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error.startswith("connection failed")


def test_deliveries_give_up_when_the_retry_window_closes(
    api, org, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver([500] * 100) as receiver:
        hook, _ = subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.leaked", {})
        delivery = WebhookDelivery.objects.get()
        while delivery.status == "pending":
            deliveries.retry_due(now=delivery.next_attempt_at)  # time moves to each retry
            delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert delivery.last_attempt_at - delivery.created_at >= dt.timedelta(hours=24)
    assert delivery.last_attempt_at <= delivery.retry_until
    assert len(receiver.received) == delivery.attempts > 10
    [row] = delivery_log(api, admin_secret, hook)
    assert (row["status"], row["attempts"]) == ("failed", delivery.attempts)


def test_every_attempt_of_a_delivery_carries_its_one_delivery_id_for_receivers_to_dedupe(
    api, org, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver([500]) as receiver:
        subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expired", {})
        delivery = WebhookDelivery.objects.get()
        deliveries.retry_due(now=delivery.next_attempt_at)
    assert len(receiver.received) == 2
    assert {headers["Keyward-Delivery"] for headers, _body in receiver.received} == {
        str(delivery.pk)
    }
    assert len({body for _headers, body in receiver.received}) == 1


def test_a_4xx_is_not_retried(api, org, alice, admin_secret, django_capture_on_commit_callbacks):
    with Receiver([410]) as receiver:
        subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expired", {})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 410)
    assert deliveries.due_ids(timezone.now() + dt.timedelta(days=1)) == []


def test_redeliver_sends_the_same_event_again(
    api, org, alice, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver([410]) as receiver:
        hook, signing_secret = subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expired", {})
        [row] = delivery_log(api, admin_secret, hook)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                f"/api/v1/webhooks/{hook}/deliveries/{row['id']}/redeliver", **bearer(admin_secret)
            )
    assert response.status_code == 202
    assert receiver.received[0][1] == receiver.received[1][1]
    assert receiver.verified(signing_secret)
    assert delivery_log(api, admin_secret, hook)[0]["status"] == "succeeded"


def test_another_organizations_delivery_log_answers_404(
    api, org, alice, admin_secret, mallory, other_org, django_capture_on_commit_callbacks
):
    hook, _ = subscribe(api, admin_secret, "https://hooks.example.com/k")
    with django_capture_on_commit_callbacks(execute=False):
        emit(org, "credential.expired", {})
    delivery = WebhookDelivery.objects.get()
    _t, outsider = issue(mallory, scopes=["admin"])
    assert api.get(f"/api/v1/webhooks/{hook}/deliveries", **bearer(outsider)).status_code == 404
    answer = api.post(
        f"/api/v1/webhooks/{hook}/deliveries/{delivery.pk}/redeliver", **bearer(outsider)
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    own_hook, _ = subscribe(api, outsider, "https://hooks.example.com/g")
    wrong = api.post(
        f"/api/v1/webhooks/{own_hook}/deliveries/{delivery.pk}/redeliver", **bearer(outsider)
    )
    assert wrong.status_code == 404


def test_the_signature_is_refused_when_stale():
    header = deliveries.sign("kw_whsec_x", 1_000_000, b"{}")
    assert verify("kw_whsec_x", header, b"{}", now=1_000_100)
    assert not verify("kw_whsec_x", header, b"{}", now=1_000_000 + 301)
    assert not verify("kw_whsec_x", header, b"{ }", now=1_000_100)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/h",
        "http://localhost/h",
        "http://10.1.2.3/h",
        "http://192.168.0.5/h",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/h",
        "http://[fe80::1]/h",
        "http://100.64.0.1/h",
        "http://[::ffff:127.0.0.1]/h",
    ],
)
def test_private_addresses_are_refused_unless_allowed(api, settings, admin_secret, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = api.post(
        "/api/v1/webhooks",
        {"url": url, "eventCategories": ["credentials"]},
        format="json",
        **bearer(admin_secret),
    )
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")


def test_changing_a_url_to_a_private_address_is_refused(api, settings, admin_secret):
    hook, _ = subscribe(api, admin_secret, "https://93.184.215.14/h")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = api.patch(
        f"/api/v1/webhooks/{hook}",
        {"url": "http://127.0.0.1/h"},
        format="json",
        **bearer(admin_secret),
    )
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")


def test_delivery_checks_the_address_again(
    api, org, settings, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        subscribe(api, admin_secret, receiver.url)  # allowed then; DNS (or the rule) changed since
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expired", {})
    delivery = WebhookDelivery.objects.get()
    assert receiver.received == []
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "127.0.0.1 resolves to no public address",
    )


def test_a_delivery_connects_to_the_address_it_checked_even_when_dns_answers_otherwise_later(
    api, org, settings, monkeypatch, admin_secret, django_capture_on_commit_callbacks
):
    """DNS rebinding: the name answers an allowed address when checked, then a forbidden one.
    Here 127.0.0.1 plays the allowed (public) address and 127.0.0.2 the forbidden one."""
    real_getaddrinfo = socket.getaddrinfo
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.rebinding.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = "127.0.0.1" if not answers else "127.0.0.2"
        answers.append(address)
        return real_getaddrinfo(address, port, *args, **kwargs)

    with Receiver() as checked, Receiver(host="127.0.0.2", port=checked.port) as forbidden:
        subscribe(api, admin_secret, f"http://hooks.rebinding.test:{checked.port}/hooks/keyward")
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        monkeypatch.setattr(deliveries, "is_public", lambda address: address == "127.0.0.1")
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expired", {})
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert len(checked.received) == 1
    assert forbidden.received == []


def test_two_attempts_at_once_send_once(org, alice, api, admin_secret):
    subscribe(api, admin_secret, "https://hooks.example.com/k")
    emit(org, "credential.expired", {})
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    assert deliveries.claim(delivery.pk, now) is True
    assert deliveries.claim(delivery.pk, now) is False  # the second worker finds it leased
    assert deliveries.claim(delivery.pk, now + deliveries.LEASE) is True  # the first died: retried


def test_the_portal_shows_each_webhooks_delivery_log_to_admins(
    api, client, org, alice, dev, admin_secret, django_capture_on_commit_callbacks
):
    with Receiver([503]) as receiver:
        hook, _ = subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expiring", {})
        delivery = WebhookDelivery.objects.get()
        login(client, alice)
        listing = client.get(f"/orgs/{org.public_id}/admin/webhooks/")
        assert (
            listing.status_code == 200
            and f"/admin/webhooks/{hook}/deliveries/" in listing.content.decode()
        )
        log = client.get(
            f"/orgs/{org.public_id}/admin/webhooks/{hook}/deliveries/"
        ).content.decode()
        assert "credential.expiring" in log and "HTTP 503" in log and "Pending" in log
        with django_capture_on_commit_callbacks(execute=True):
            redelivered = client.post(
                f"/orgs/{org.public_id}/admin/webhooks/{hook}/deliveries/{delivery.pk}/redeliver/"
            )
    assert redelivered.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    login(client, dev)
    assert client.get(f"/orgs/{org.public_id}/admin/webhooks/{hook}/deliveries/").status_code == 403


def test_another_organizations_webhook_page_answers_404(
    client, org, alice, mallory, other_org, api, admin_secret
):
    hook, _ = subscribe(api, admin_secret, "https://hooks.example.com/k")
    login(client, mallory)
    assert (
        client.get(f"/orgs/{other_org.public_id}/admin/webhooks/{hook}/deliveries/").status_code
        == 404
    )
    assert client.get(f"/orgs/{org.public_id}/admin/webhooks/{hook}/deliveries/").status_code == 404


def test_on_the_database_queue_a_retry_is_a_task_deferred_to_its_time(
    api, org, alice, admin_secret, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    with Receiver([500]) as receiver:
        subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            emit(org, "credential.expiring", {})
        [queued] = DBTaskResult.objects.all()
        assert (queued.task_path, queued.args_kwargs["args"]) == (
            "chats.deliveries.deliver",
            [WebhookDelivery.objects.get().pk],
        )
        with django_capture_on_commit_callbacks(execute=True):
            queued.task.call(*queued.args_kwargs["args"])  # what a db_worker does with it
    delivery = WebhookDelivery.objects.get()
    retry = DBTaskResult.objects.exclude(pk=queued.pk).get()
    assert (retry.task_path, retry.run_after) == (
        "chats.deliveries.deliver",
        delivery.next_attempt_at,
    )
    assert len(receiver.received) == 1


def test_a_leak_report_reaches_a_subscribed_webhook_as_credential_leaked(
    api, org, alice, dev, admin_secret, settings, django_capture_on_commit_callbacks
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.tokens.test_leaks import KEY_ID, post, report

    key = ec.generate_private_key(ec.SECP256R1())
    settings.SECRET_SCANNING_PUBLIC_KEYS = {
        KEY_ID: key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    }
    token, leaked = issue(dev, scopes=["read.me"], name="pasted")
    with Receiver() as receiver:
        _hook, signing_secret = subscribe(api, admin_secret, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            answer = post(api, report(leaked), key=key)
    assert answer.status_code == 200
    types = [e["type"] for e in receiver.events()]
    assert "credential.leaked" in types and "credential.revoked" in types
    [event] = [e for e in receiver.events() if e["type"] == "credential.leaked"]
    assert (event["data"]["credential"]["id"], event["data"]["url"]) == (
        token.pk,
        "https://github.com/acme/app/blob/main/.env",
    )
    assert receiver.verified(signing_secret) and leaked not in repr(receiver.received)


def test_a_url_that_cannot_be_called_fails_at_once(
    api, org, alice, admin_secret, django_capture_on_commit_callbacks
):
    subscribe(api, admin_secret, "https://hooks.example.com:99999/k")
    with django_capture_on_commit_callbacks(execute=True):
        emit(org, "credential.expired", {})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_workers_and_a_real_scheduler_deliver_after_a_500(org, alice, dev, settings):
    """db_worker processes take the first attempt off the database queue; `run_schedule
    webhook-retries`, run as of the retry's time, makes the second."""
    import time as clock

    from chats import services as chat_services
    from tests.tokens.test_background import manage, process_env

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    env = {**process_env(), "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true", "WEBHOOK_ALLOW_HTTP": "true"}
    with Receiver([500]) as receiver:
        issued = chat_services.create_webhook(
            organization=org, url=receiver.url, event_categories=["credentials"], by=alice
        )
        signing_secret = issued.secret.reveal()
        workers = [
            manage("db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", env=env)
            for _ in range(2)
        ]
        try:
            issue(dev, scopes=["read.me"], name="from a worker")
            deadline = clock.monotonic() + 60
            while (
                clock.monotonic() < deadline
                and not WebhookDelivery.objects.filter(attempts=1).exists()
            ):
                clock.sleep(0.2)
            delivery = WebhookDelivery.objects.get()
            assert (delivery.status, delivery.attempts, delivery.response_status) == (
                "pending",
                1,
                500,
            )
            scheduler = manage(
                "run_schedule",
                "webhook-retries",
                "--now",
                delivery.next_attempt_at.isoformat(),
                env=env,
            )
            output = scheduler.communicate(timeout=60)[0]
            assert scheduler.returncode == 0, output
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=15)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert [e["type"] for e in receiver.events()] == ["credential.created"] * 2
    assert receiver.verified(signing_secret, now=delivery.last_attempt_at.timestamp())
