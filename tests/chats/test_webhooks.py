"""Webhook signing secrets are credentials: every write is audited, the secret is never in the log."""

import pytest

from chats import deliveries
from chats.models import Webhook
from tests.factories import bearer, issue
from tokens.models import AuditEvent

pytestmark = pytest.mark.django_db


def _actions(org):
    return list(
        AuditEvent.objects.filter(organization=org, credential_kind="webhook")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_every_webhook_write_is_audited_without_its_secret(api, alice, org):
    _t, secret = issue(alice, scopes=["admin"])
    created = api.post(
        "/api/v1/webhooks",
        {"url": "https://example.com/h", "eventCategories": ["message"]},
        format="json",
        **bearer(secret),
    )
    hook = created.json()["id"]
    regenerated = api.post(
        f"/api/v1/webhooks/{hook}/regenerate-secret", format="json", **bearer(secret)
    )
    api.patch(
        f"/api/v1/webhooks/{hook}",
        {"url": "https://example.com/other"},
        format="json",
        **bearer(secret),
    )
    assert api.delete(f"/api/v1/webhooks/{hook}", **bearer(secret)).status_code == 204
    assert _actions(org) == [
        "issued",
        "secret_shown",
        "rotated",
        "secret_shown",
        "renamed",
        "revoked",
    ]
    logged = repr(list(AuditEvent.objects.values()))
    assert created.json()["secret"] not in logged and regenerated.json()["secret"] not in logged
    event = AuditEvent.objects.get(action="rotated")
    assert (event.actor, event.credential_last4) == (alice, regenerated.json()["secret"][-4:])


def _create(api, secret, url):
    return api.post(
        "/api/v1/webhooks",
        {"url": url, "eventCategories": ["credentials"]},
        format="json",
        **bearer(secret),
    )


@pytest.mark.parametrize("url", ["ftp://example.com/h", "ftps://example.com/h"])
def test_webhook_url_of_a_scheme_other_than_https_or_http_is_refused(api, alice, url):
    _t, secret = issue(alice, scopes=["admin"])
    response = _create(api, secret, url)
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")
    assert "https" in response.json()["detail"]
    assert not Webhook.objects.exists()


def test_plain_http_webhook_url_is_refused_unless_allowed(api, alice, settings):
    _t, secret = issue(alice, scopes=["admin"])
    settings.WEBHOOK_ALLOW_HTTP = False
    response = _create(api, secret, "http://example.com/h")
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")
    assert not Webhook.objects.exists()
    settings.WEBHOOK_ALLOW_HTTP = True
    assert _create(api, secret, "http://example.com/h").status_code == 201


def test_changing_a_webhook_url_to_plain_http_is_refused_unless_allowed(api, alice, settings):
    _t, secret = issue(alice, scopes=["admin"])
    hook = _create(api, secret, "https://example.com/h").json()["id"]
    settings.WEBHOOK_ALLOW_HTTP = False
    response = api.patch(
        f"/api/v1/webhooks/{hook}", {"url": "http://example.com/h"}, format="json", **bearer(secret)
    )
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")
    assert Webhook.objects.get(pk=hook).url == "https://example.com/h"


def test_delivery_over_plain_http_is_refused_once_http_is_not_allowed(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(deliveries.AddressNotAllowed):
        deliveries.post("http://127.0.0.1:9/h", "{}", {})
