import pytest
from django.urls import reverse

from tests.factories import login, membership
from tokens.api_keys import services as api_keys
from tokens.models import ApiKey

pytestmark = pytest.mark.django_db


def _url(name, org, *args):
    return reverse(name, args=[org.public_id, *args])


def test_developer_creates_a_key_and_sees_the_secret_once(client, dev, org):
    login(client, dev)
    response = client.post(_url("api_key_create", org), {"name": "server", "scopes": ["read.me"], "allow_jwt": "on"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    html = response.content.decode()
    secret = html.split('id="new-key-secret">')[1].split("<")[0]
    assert secret.startswith("kw_sk_") and key.key_id in html
    again = client.get(_url("api_keys", org)).content.decode()
    assert key.key_id in again and secret not in again


def test_scope_beyond_the_role_is_shown_as_an_error(client, dev, org):
    login(client, dev)
    response = client.post(_url("api_key_create", org), {"name": "x", "scopes": ["delete.users"]})
    assert response.status_code == 400
    assert "beyond your own role" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_agent_without_developer_access_gets_403(client, agent, org):
    login(client, agent)
    assert client.get(_url("api_keys", org)).status_code == 403


def test_outsider_gets_404_on_every_key_route_and_nothing_changes(client, alice, mallory, org):
    key = api_keys.create_api_key(issuer=membership(alice), name="k", scopes=["read.me"]).credential
    login(client, mallory)
    for name, method in [("api_keys", "get"), ("api_key_rename", "post"), ("api_key_rotate", "post"),
                         ("api_key_delete", "post")]:
        args = [] if name == "api_keys" else [key.pk]
        assert getattr(client, method)(_url(name, org, *args), {"name": "pwned"}).status_code == 404
    key.refresh_from_db()
    assert key.name == "k" and key.revoked_at is None


def test_developer_does_not_see_a_key_created_by_the_admin(client, alice, dev, org):
    key = api_keys.create_api_key(issuer=membership(alice), name="admin key", scopes=["read.me"]).credential
    login(client, dev)
    assert "admin key" not in client.get(_url("api_keys", org)).content.decode()
    assert client.post(_url("api_key_delete", org, key.pk)).status_code == 404


def test_delete_asks_first_and_says_it_cannot_be_undone(client, dev, org):
    key = api_keys.create_api_key(issuer=membership(dev), name="k", scopes=["read.me"]).credential
    login(client, dev)
    confirm = client.get(_url("api_key_delete", org, key.pk))
    assert "cannot be undone" in confirm.content.decode()
    assert ApiKey.objects.live().count() == 1
    client.post(_url("api_key_delete", org, key.pk))
    assert ApiKey.objects.live().count() == 0


def test_rotate_shows_a_new_secret_once(client, dev, org):
    key = api_keys.create_api_key(issuer=membership(dev), name="k", scopes=["read.me"]).credential
    login(client, dev)
    response = client.post(_url("api_key_rotate", org, key.pk), {"grace": "1h"})
    assert response.status_code == 201
    assert 'id="new-key-secret">kw_sk_' in response.content.decode()
