"""Rotation finished on evidence: a rotated credential is one credential with two secrets
during its overlap; its page says what the previous secret still does; the overlap can be
ended at once, and deleting the credential ends both secrets."""

import base64

import pytest
from django.urls import reverse

from tests.factories import bearer, issue, make_api_key
from tokens.api_keys import services as api_key_services
from tokens.models import AuditEvent
from tokens.personal import services
from tokens.usage import counter

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotated(dev):
    """A token rotated with a day's overlap: (the credential, its previous secret, its current)."""
    token, old = issue(
        dev, scopes=["read.me", "read.tokens", "update.tokens", "delete.tokens"], name="deploy"
    )
    issued = services.rotate_token(token=token, grace="24h", by=dev)
    return issued.credential, old, issued.secret.reveal()


def test_a_rotated_token_is_listed_once_with_when_its_previous_secret_ends(api, rotated):
    token, _old, current = rotated
    body = api.get("/api/v1/tokens", **bearer(current)).json()
    assert [row["id"] for row in body["results"]] == [token.pk]
    assert body["results"][0]["oldSecretWorksUntil"] is not None


def test_both_secrets_work_during_the_overlap(api, rotated):
    _token, old, current = rotated
    assert api.get("/api/v1/me", **bearer(old)).status_code == 200
    assert api.get("/api/v1/me", **bearer(current)).status_code == 200


def test_deleting_a_rotated_token_revokes_its_previous_secret_too(api, rotated):
    token, old, current = rotated
    assert api.delete(f"/api/v1/tokens/{token.pk}", **bearer(current)).status_code == 204
    assert api.get("/api/v1/me", **bearer(old)).status_code == 401


def test_ending_the_overlap_stops_the_previous_secret_and_keeps_the_current(api, rotated):
    token, old, current = rotated
    response = api.post(f"/api/v1/tokens/{token.pk}/end-overlap", **bearer(current))
    assert response.status_code == 200
    assert response.json()["oldSecretWorksUntil"] is None
    assert AuditEvent.objects.filter(detail="overlap ended early").count() == 1
    assert api.get("/api/v1/me", **bearer(old)).status_code == 401
    assert api.get("/api/v1/me", **bearer(current)).status_code == 200


def test_ending_an_overlap_there_is_not_is_a_400_no_overlap(api, dev):
    token, secret = issue(dev, scopes=["update.tokens"])
    response = api.post(f"/api/v1/tokens/{token.pk}/end-overlap", **bearer(secret))
    assert response.status_code == 400
    assert response.json()["code"] == "no_overlap"


def test_ending_the_overlap_needs_the_update_scope(api, dev, rotated):
    token, _old, _current = rotated
    _reader, reader = issue(dev, scopes=["read.tokens"])
    assert api.post(f"/api/v1/tokens/{token.pk}/end-overlap", **bearer(reader)).status_code == 403


def test_a_tokens_usage_counts_its_previous_secret_apart(api, rotated):
    token, old, current = rotated
    for secret in (old, old, current):
        api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    body = api.get(f"/api/v1/tokens/{token.pk}/usage", **bearer(current)).json()
    assert body["totals"]["requests"] == 3
    assert body["totals"]["previousSecretRequests"] == 2


def _basic(key, secret):
    raw = base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def test_ending_an_api_keys_overlap_stops_its_previous_secret(api, alice):
    key, old = make_api_key(alice, scopes=["read.me", "update.api_keys"])
    new = api_key_services.rotate_api_key(key=key, grace="24h", by=alice).secret.reveal()
    response = api.post(f"/api/v1/api-keys/{key.pk}/end-overlap", **_basic(key, new))
    assert response.status_code == 200
    assert api.get("/api/v1/me", **_basic(key, old)).status_code == 401
    assert api.get("/api/v1/me", **_basic(key, new)).status_code == 200


def _detail(client, dev, token, query=""):
    client.force_login(dev)
    org = dev.memberships.get().organization
    url = reverse("token_detail", kwargs={"org_id": org.public_id, "token_id": token.pk})
    return client.get(url + query).content.decode()


def test_the_page_says_what_the_previous_secret_did_lately(client, api, dev, rotated):
    token, old, _current = rotated
    for _ in range(3):
        api.get("/api/v1/me", HTTP_X_FORWARDED_FOR="", **bearer(old))
    counter.flush()
    html = _detail(client, dev, token)
    assert 'id="previous-last-hour">3 requests' in html
    assert 'id="previous-last-day">3 requests' in html
    assert "127.0.0.1 (3)" in html
    assert "still in use" in html


def test_an_idle_previous_secret_is_safe_to_retire(client, dev, rotated):
    token, _old, _current = rotated
    assert "safe to retire" in _detail(client, dev, token, "?idle=15m")


def test_the_portal_ends_the_overlap_after_a_confirmation(client, api, dev, rotated):
    token, old, _current = rotated
    client.force_login(dev)
    org = dev.memberships.get().organization
    url = reverse("token_end_overlap", kwargs={"org_id": org.public_id, "token_id": token.pk})
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "End the overlap now" in confirm.content.decode()
    assert api.get("/api/v1/me", **bearer(old)).status_code == 200  # a GET changes nothing
    assert client.post(url).status_code == 302
    assert api.get("/api/v1/me", **bearer(old)).status_code == 401
