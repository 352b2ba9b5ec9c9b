"""Portal error pages sit inside the layout, offer a way on, and a 403 says who can grant access."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import issue, login

pytestmark = pytest.mark.django_db


def test_a_403_names_the_admins_who_can_grant_access(client, alice, agent, bot, org):
    response = login(client, agent).get(reverse("developer_home", args=[org.public_id]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "developer access" in html
    assert "alice@acme.test" in html
    assert "bot@acme.test" not in html  # a service account grants nothing
    assert 'aria-label="Sections"' in html  # inside the layout
    assert reverse("org_home", args=[org.public_id]) in html  # a way on


def test_a_404_of_a_deleted_token_is_our_page_with_debug_on(client, dev, org):
    token, _ = issue(dev)
    url = reverse("token_detail", args=[org.public_id, token.pk])
    token.delete()
    with override_settings(DEBUG=True):
        response = login(client, dev).get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here, or not yours to see." in html
    assert "technical_404" not in html and "Using the URLconf" not in html
    assert reverse("org_home", args=[org.public_id]) in html


def test_a_404_with_debug_off_is_inside_the_layout(client, dev, org):
    response = login(client, dev).get(reverse("token_detail", args=[org.public_id, 999999]))
    assert response.status_code == 404
    assert 'class="topbar"' in response.content.decode()


def test_an_api_404_stays_json_with_debug_on(api):
    with override_settings(DEBUG=True):
        response = api.get("/api/v1/tokens/999999")
    assert response.status_code in {401, 404}
    assert response["Content-Type"].startswith("application/json")


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"


def test_a_500_is_inside_the_layout_with_a_way_on(alice, org):
    from unittest import mock

    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with mock.patch("accounts.views.render", side_effect=RuntimeError("boom")):
        response = client.get(reverse("org_home", args=[org.public_id]))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Server error" in html and 'class="topbar"' in html
    assert "boom" not in html
