"""The API keys API (tokens.api_keys.api): create shows the secret once; another organization's key is a 404."""

import pytest

from tests.factories import make_api_key
from tests.tokens.api_keys.helpers import basic
from tokens.models import ApiKey

pytestmark = pytest.mark.django_db


def test_api_creates_a_key_and_shows_the_secret_once(api, alice):
    key, secret = make_api_key(alice)
    response = api.post(
        "/api/v1/api-keys",
        {"name": "server", "scopes": ["read.me"]},
        format="json",
        **basic(key.key_id, secret),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["keyId"].startswith("kw_key_") and body["secret"].startswith("kw_sk_")
    listed = api.get(f"/api/v1/api-keys/{body['id']}", **basic(key.key_id, secret))
    assert body["secret"] not in listed.content.decode()


def test_outsider_gets_404_for_a_key(api, alice, mallory):
    key, _ = make_api_key(alice)
    _mkey, msecret = make_api_key(mallory)
    response = api.delete(f"/api/v1/api-keys/{key.pk}", **basic(_mkey.key_id, msecret))
    assert response.status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
