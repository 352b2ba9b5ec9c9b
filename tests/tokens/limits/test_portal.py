"""The limits editor in the portal: on every credential's page and the token policy page,
editable by admins and read-only for others, saved in place (htmx) or with a redirect, with
errors next to their fields, a confirmation before locking out one's own address, and the
addresses of the last 7 days the allowlist would refuse."""

import pytest
from django.urls import reverse

from tests.factories import bearer, issue, make_api_key, make_client
from tokens.models import Limits
from tokens.usage import counter

pytestmark = pytest.mark.django_db


def _org(user):
    return user.memberships.get().organization


_EDITORS = {
    "personal": "token_limits",
    "api_key": "api_key_limits",
    "oauth_client": "oauth_client_limits",
}


def _edit_url(user, kind, pk):
    return reverse(_EDITORS[kind], args=[_org(user).public_id, pk])


@pytest.mark.parametrize(
    "kind,page,arg",
    [
        ("personal", "token_detail", "token_id"),
        ("api_key", "api_key_detail", "key_id"),
        ("oauth_client", "oauth_client_detail", "client_pk"),
    ],
)
def test_every_credential_page_has_the_limits_editor_for_admins(client, alice, kind, page, arg):
    credential = {
        "personal": lambda: issue(alice)[0],
        "api_key": lambda: make_api_key(alice)[0],
        "oauth_client": lambda: make_client(alice)[0],
    }[kind]()
    client.force_login(alice)
    response = client.get(
        reverse(page, kwargs={"org_id": _org(alice).public_id, arg: credential.pk})
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="limits-form"' in html
    assert f'action="{_edit_url(alice, kind, credential.pk)}"' in html


def test_a_developer_reads_the_limits_without_a_form(client, dev):
    token, _ = issue(dev)
    client.force_login(dev)
    response = client.get(
        reverse("token_detail", kwargs={"org_id": _org(dev).public_id, "token_id": token.pk})
    )
    html = response.content.decode()
    assert 'id="limits-facts"' in html and 'id="limits-form"' not in html
    assert client.post(_edit_url(dev, "personal", token.pk), {}).status_code == 403


def test_saving_redirects_to_the_credentials_page(client, alice, dev):
    token, _ = issue(dev)
    client.force_login(alice)
    response = client.post(
        _edit_url(alice, "personal", token.pk),
        {
            "rate_limits": "burst 100 60\nslow 1000 3600 2",
            "credits": "500",
            "refill_amount": "500",
            "refill_interval": "monthly",
            "refill_day": "1",
            "allowlist": "127.0.0.0/8\n2001:db8::/32",
        },
    )
    assert response.status_code == 302
    row = Limits.objects.get()
    assert row.rate_limits[1] == {"name": "slow", "limit": 1000, "window_seconds": 3600, "cost": 2}
    assert (row.credits, row.refill_interval, row.refill_day) == (500, "monthly", 1)
    assert row.allowlist == ["127.0.0.0/8", "2001:db8::/32"]


def test_saving_in_place_answers_the_panel(client, alice, dev):
    token, _ = issue(dev)
    client.force_login(alice)
    response = client.post(
        _edit_url(alice, "personal", token.pk), {"rate_limits": "burst 5 1"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="limits"')
    assert "Limits saved." in html


def test_a_bad_range_is_shown_next_to_its_field(client, alice, dev):
    token, _ = issue(dev)
    client.force_login(alice)
    response = client.post(_edit_url(alice, "personal", token.pk), {"allowlist": "10.0.0.300/8"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true"' in html and 'id="limits-allowlist-error"' in html
    assert "is not an IPv4 or IPv6 range" in html
    assert "10.0.0.300/8" in html  # what was typed stays
    assert not Limits.objects.exists()


def test_a_bad_rate_limit_line_is_explained(client, alice, dev):
    token, _ = issue(dev)
    client.force_login(alice)
    response = client.post(_edit_url(alice, "personal", token.pk), {"rate_limits": "burst lots"})
    assert response.status_code == 400
    assert "Line 1" in response.content.decode()


def test_locking_out_ones_own_address_asks_for_confirmation(client, alice, dev):
    token, _ = issue(dev)
    client.force_login(alice)
    url = _edit_url(alice, "personal", token.pk)
    response = client.post(url, {"allowlist": "203.0.113.0/24"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="limits-confirm-lockout"' in html and "127.0.0.1" in html
    assert not Limits.objects.exists()
    assert (
        client.post(url, {"allowlist": "203.0.113.0/24", "confirm_lockout": "on"}).status_code
        == 302
    )


def test_another_organizations_credential_is_a_404(client, alice, mallory):
    theirs, _ = issue(mallory)
    client.force_login(alice)
    assert client.get(_edit_url(alice, "personal", theirs.pk)).status_code == 404
    assert (
        client.post(_edit_url(alice, "personal", theirs.pk), {"rate_limits": "a 1 1"}).status_code
        == 404
    )
    key, _ = make_api_key(mallory)
    assert client.get(_edit_url(alice, "api_key", key.pk)).status_code == 404


def test_the_panel_lists_addresses_of_the_last_week_the_list_would_refuse(client, api, alice, dev):
    token, secret = issue(dev)
    api.get("/api/v1/me", REMOTE_ADDR="198.51.100.7", **bearer(secret))
    api.get("/api/v1/me", REMOTE_ADDR="127.0.0.1", **bearer(secret))
    counter.flush()
    client.force_login(alice)
    client.post(
        _edit_url(alice, "personal", token.pk), {"allowlist": "127.0.0.0/8", "report_only": "on"}
    )
    html = client.get(_edit_url(alice, "personal", token.pk)).content.decode()
    assert 'id="limits-would-refuse"' in html
    assert "198.51.100.7" in html
    assert "<td>127.0.0.1</td>" not in html


def test_the_token_policy_page_edits_the_organizations_default(client, alice):
    client.force_login(alice)
    page = client.get(reverse("token_policy", kwargs={"org_id": _org(alice).public_id}))
    assert "Default limits for every credential" in page.content.decode()
    url = reverse("organization_limits_edit", kwargs={"org_id": _org(alice).public_id})
    assert client.post(url, {"rate_limits": "default 50 1"}).status_code == 302
    assert Limits.objects.get(credential_id__isnull=True).rate_limits[0]["limit"] == 50
    refused = client.post(url, {"credits": "5"})
    assert refused.status_code == 400
