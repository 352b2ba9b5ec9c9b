"""A confirmation opened from an admin list goes back to that list, and only to a page of the
organization's own admin area (the `return` parameter is never an open redirect)."""

import pytest
from django.urls import reverse

from tests.factories import issue, login

pytestmark = pytest.mark.django_db


def delete_url(org, token):
    return reverse("token_delete", args=[org.public_id, token.pk])


def test_deleting_with_a_return_to_the_inventory_redirects_there(client, alice, dev, org):
    token, _ = issue(dev, name="CI")
    back = reverse("credential_inventory", args=[org.public_id]) + "?q=CI"
    login(client, alice)
    response = client.post(delete_url(org, token), {"return": back})
    assert response.status_code == 302
    assert response["Location"] == back


@pytest.mark.parametrize(
    "hostile",
    ["https://evil.example/", "//evil.example/", "/orgs/org_other/admin/", "/\\evil.example"],
)
def test_a_return_outside_the_organizations_admin_area_is_ignored(client, alice, dev, org, hostile):
    token, _ = issue(dev, name="CI")
    login(client, alice)
    response = client.post(delete_url(org, token), {"return": hostile})
    assert response["Location"] == reverse("tokens", args=[org.public_id])


def test_the_confirmation_opened_from_the_inventory_links_back_to_it(client, alice, dev, org):
    token, _ = issue(dev, name="CI")
    back = reverse("credential_inventory", args=[org.public_id]) + "?kind=personal"
    login(client, alice)
    html = client.get(delete_url(org, token), {"return": back}).content.decode()
    assert 'href="' + back.replace("&", "&amp;") + '">← Every credential' in html
