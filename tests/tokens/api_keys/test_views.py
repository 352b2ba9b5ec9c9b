import pytest
from django.urls import reverse

from tests.factories import login, make_api_key, membership
from tokens import scopes as catalog
from tokens.api_keys import services as api_keys
from tokens.models import ApiKey

pytestmark = pytest.mark.django_db


def see_other_then_ok(response):
    """Post/Redirect/Get (issue 12): the POST answers 303 (it used to answer 201 with the secret in
    its body) and the result page it leads to answers 200 and shows the secret once."""
    return [status for _, status in response.redirect_chain] == [
        303
    ] and response.status_code == 200


def _url(name, org, *args):
    return reverse(name, args=[org.public_id, *args])


def test_developer_creates_a_key_and_sees_the_secret_once(client, dev, org):
    login(client, dev)
    response = client.post(
        _url("api_key_create", org),
        {"name": "server", "scopes": ["read.me"], "allow_jwt": "on"},
        follow=True,
    )
    assert see_other_then_ok(response)
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


def test_developer_does_not_see_a_key_created_by_the_admin(client, alice, dev, org):
    key = api_keys.create_api_key(
        issuer=membership(alice), name="admin key", scopes=["read.me"]
    ).credential
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
    response = client.post(_url("api_key_rotate", org, key.pk), {"grace": "1h"}, follow=True)
    assert see_other_then_ok(response)
    assert 'id="new-key-secret">kw_sk_' in response.content.decode()


HTMX = {"HX-Request": "true"}


def test_htmx_asks_for_the_list_and_gets_the_list_alone(client, dev, org):
    make_api_key(dev, scopes=("read.me",), name="server")
    login(client, dev)
    response = client.get(_url("api_keys", org), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="api-key-list"') and "server" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_create_answers_the_create_fragment_and_tells_the_list_to_reload(client, dev, org):
    login(client, dev)
    response = client.post(
        _url("api_key_create", org),
        {"name": "server", "scopes": ["read.me"]},
        headers=HTMX,
        follow=True,
    )
    assert see_other_then_ok(response)
    assert response["Cache-Control"] == "no-store"
    assert response["HX-Trigger"] == "api-keys-changed"
    html = response.content.decode()
    assert (
        html.lstrip().startswith('<section id="api-key-create"')
        and 'id="new-key-secret">kw_sk_' in html
    )
    assert 'id="api-key-list"' not in html


def test_a_whole_domain_picked_in_the_scope_picker_grants_what_the_member_may(client, dev, org):
    login(client, dev)
    response = client.post(
        _url("api_key_create", org), {"name": "server", "all_of": ["Developer"]}, follow=True
    )
    assert see_other_then_ok(response)
    developer = next(domain for domain in catalog.DOMAINS if domain.name == "Developer")
    assert "create.api_keys" in ApiKey.objects.get().scope_list
    assert set(ApiKey.objects.get().scope_list) <= {scope.name for scope in developer.scopes}


def test_a_key_without_a_name_is_refused_next_to_the_field(client, dev, org):
    login(client, dev)
    response = client.post(_url("api_key_create", org), {"name": " ", "scopes": ["read.me"]})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()
    assert 'id="key-name-error"' in response.content.decode()


def test_admin_picks_the_service_account_a_key_acts_as(client, alice, bot, org):
    login(client, alice)
    owner = membership(bot, org)
    response = client.post(
        _url("api_key_create", org),
        {"name": "bot key", "scopes": ["read.me"], "owner": owner.pk},
        follow=True,
    )
    assert see_other_then_ok(response)
    assert ApiKey.objects.get().membership == owner


def test_an_owner_who_is_not_a_service_account_is_refused(client, alice, dev, org):
    login(client, alice)
    response = client.post(
        _url("api_key_create", org),
        {"name": "k", "scopes": ["read.me"], "owner": membership(dev, org).pk},
    )
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_rename_redirects_back_to_the_list_with_the_new_name(client, dev, org):
    key, _ = make_api_key(dev, scopes=("read.me",), name="old")
    login(client, dev)
    response = client.post(_url("api_key_rename", org, key.pk), {"name": "new"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "new"
    assert "API key renamed." in client.get(response["Location"]).content.decode()


def test_rename_to_nothing_is_refused_and_keeps_the_name(client, dev, org):
    key, _ = make_api_key(dev, scopes=("read.me",), name="old")
    login(client, dev)
    response = client.post(_url("api_key_rename", org, key.pk), {"name": ""}, headers=HTMX)
    assert response.status_code == 400
    key.refresh_from_db()
    assert key.name == "old"
    assert "Give the API key a name" in response.content.decode()


def test_htmx_rotate_answers_the_secret_panel_alone(client, dev, org):
    key, old = make_api_key(dev, scopes=("read.me",))
    login(client, dev)
    response = client.post(
        _url("api_key_rotate", org, key.pk), {"grace": "none"}, headers=HTMX, follow=True
    )
    assert see_other_then_ok(response)
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert (
        'id="new-key-secret">kw_sk_' in html and old not in html and 'id="api-key-list"' not in html
    )


def test_an_unknown_grace_period_is_refused(client, dev, org):
    key, _ = make_api_key(dev, scopes=("read.me",))
    login(client, dev)
    response = client.post(_url("api_key_rotate", org, key.pk), {"grace": "forever"})
    assert response.status_code == 400
    key.refresh_from_db()
    assert key.previous_secret_digest == ""


def test_htmx_delete_answers_the_deleted_fragment(client, dev, org):
    key, _ = make_api_key(dev, scopes=("read.me",), name="gone")
    login(client, dev)
    response = client.post(_url("api_key_delete", org, key.pk), headers=HTMX)
    assert response.status_code == 200
    assert ApiKey.objects.live().count() == 0
    assert 'id="api-key-deleted"' in response.content.decode()
    assert response["HX-Trigger"] == "api-keys-changed"
