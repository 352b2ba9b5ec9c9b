"""A change made in place (an htmx fragment) says so like a full page would: its message rides
out of band into the page's #messages live region."""

import pytest
from django.urls import reverse

from tests.factories import issue, login

pytestmark = pytest.mark.django_db


def test_a_rename_in_place_carries_its_message_out_of_band(client, dev, org):
    token, _ = issue(dev, name="CI")
    login(client, dev)
    response = client.post(
        reverse("token_rename", args=[org.public_id, token.pk]),
        {"name": "CI 2"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html
    assert "Token renamed." in html


def test_the_message_is_shown_once(client, dev, org):
    token, _ = issue(dev, name="CI")
    login(client, dev)
    client.post(
        reverse("token_rename", args=[org.public_id, token.pk]),
        {"name": "CI 2"},
        HTTP_HX_REQUEST="true",
    )
    page = client.get(reverse("tokens", args=[org.public_id])).content.decode()
    assert "Token renamed." not in page


def test_every_page_has_the_live_region_for_messages(client, dev, org):
    html = login(client, dev).get(reverse("tokens", args=[org.public_id])).content.decode()
    assert '<div id="messages" class="messages" role="status" aria-live="polite">' in html
