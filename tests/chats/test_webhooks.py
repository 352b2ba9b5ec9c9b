"""Webhook signing secrets are credentials: every write is audited, the secret is never in the log."""

import pytest

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
