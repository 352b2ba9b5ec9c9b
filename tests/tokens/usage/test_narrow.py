"""Scopes narrowed to what is used: a rotation into a token with only the scopes that authorized
its requests in the last N days, its secret shown once, the old one working for the overlap,
one confirmation, audited."""

import pytest
from django.urls import reverse

from tests.factories import bearer, issue
from tokens.handoff import SUBMISSION_FIELD, new_submission_id
from tokens.models import AccessToken, AuditEvent
from tokens.usage import counter

pytestmark = pytest.mark.django_db

SCOPES = ["read.me", "read.tokens", "update.tokens", "read.chats"]


@pytest.fixture
def used(api, dev):
    """A token that used read.me, and none of its other scopes."""
    token, secret = issue(dev, scopes=SCOPES, name="wide")
    api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    return token, secret


def test_the_api_narrows_into_a_token_with_only_the_scopes_used(api, used):
    token, secret = used
    response = api.post(
        f"/api/v1/tokens/{token.pk}/narrow", {"days": 30}, format="json", **bearer(secret)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["scopes"] == ["read.me"]
    assert body["token"].startswith("kw_pat_")
    assert body["oldSecretWorksUntil"] is not None
    assert api.get("/api/v1/me", **bearer(body["token"])).status_code == 200
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200  # the overlap
    rotated = AuditEvent.objects.get(action="rotated", credential_id=token.pk)
    assert "narrowed to read.me" in rotated.detail


def test_narrowing_a_token_that_used_nothing_is_refused(api, dev):
    token, secret = issue(dev, scopes=["read.me", "update.tokens"])
    response = api.post(
        f"/api/v1/tokens/{token.pk}/narrow", {"days": 7}, format="json", **bearer(secret)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "no_scope_used"
    assert AccessToken.objects.personal().count() == 1


def test_a_bad_days_value_is_a_400(api, used):
    token, secret = used
    response = api.post(
        f"/api/v1/tokens/{token.pk}/narrow", {"days": 5}, format="json", **bearer(secret)
    )
    assert response.status_code == 400


def test_the_portal_shows_what_stays_and_goes_then_narrows_after_one_confirmation(
    client, dev, used
):
    token, _secret = used
    client.force_login(dev)
    org = dev.memberships.get().organization
    url = reverse("token_narrow", kwargs={"org_id": org.public_id, "token_id": token.pk})
    page = client.get(url + "?days=30").content.decode()
    kept = page[page.index('id="narrow-kept"') : page.index('id="narrow-dropped"')]
    assert "read.me" in kept and "read.chats" not in kept
    assert "read.chats" in page[page.index('id="narrow-dropped"') :]
    assert AccessToken.objects.personal().count() == 1  # looking changes nothing
    response = client.post(
        url, {"days": "30", "grace_period": "1h", SUBMISSION_FIELD: new_submission_id()}
    )
    assert response.status_code in (302, 303)
    newest = AccessToken.objects.personal().order_by("-pk").first()
    assert newest.scope == "read.me"
    secret_page = client.get(response["Location"]).content.decode()
    assert "kw_pat_" in secret_page


def test_a_double_submitted_narrowing_narrows_once(client, dev, used):
    token, _secret = used
    client.force_login(dev)
    org = dev.memberships.get().organization
    url = reverse("token_narrow", kwargs={"org_id": org.public_id, "token_id": token.pk})
    body = {"days": "30", "grace_period": "1h", SUBMISSION_FIELD: "n1"}
    first = client.post(url, body)
    second = client.post(url, body)
    assert second["Location"] == first["Location"]
    assert AccessToken.objects.personal().count() == 2
