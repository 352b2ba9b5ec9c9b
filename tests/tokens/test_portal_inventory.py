"""The admin's inventory of every credential of the organization: who holds what, revoked
through each kind's own confirmation, in a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import issue, login, login_pair, make_api_key, make_client, membership
from tokens.personal import services

pytestmark = pytest.mark.django_db


def inventory(client, org, **params):
    return client.get(reverse("credential_inventory", args=[org.public_id]), params)


def test_admin_sees_every_kind_with_owner_and_revoke_links(client, alice, dev, agent, org):
    token, _ = issue(dev, name="CI deploy", scopes=["read.chats"])
    key, _ = make_api_key(alice, name="Order service", scopes=["read.chats"])
    application, _ = make_client(dev, name="Reporting")
    login_pair(agent, user_agent="phone-app/2")
    response = inventory(login(client, alice), org)
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "CI deploy",
        "dev@acme.test",
        "Order service",
        "Reporting",
        "phone-app/2",
        "agent@acme.test",
        "read.chats",
    ]:
        assert text in html, text
    assert reverse("token_delete", args=[org.public_id, token.pk]) in html
    assert reverse("api_key_delete", args=[org.public_id, key.pk]) in html
    assert reverse("oauth_client_delete", args=[org.public_id, application.pk]) in html


def test_search_and_filters_narrow_the_list(client, alice, dev, org):
    issue(dev, name="CI deploy")
    issue(alice, name="Billing sync")
    make_api_key(alice, name="Order service")
    login(client, alice)
    html = inventory(client, org, q="billing").content.decode()
    assert "Billing sync" in html and "CI deploy" not in html
    html = inventory(client, org, q="dev@acme").content.decode()
    assert "CI deploy" in html and "Billing sync" not in html
    html = inventory(client, org, kind="api_key").content.decode()
    assert "Order service" in html and "CI deploy" not in html


def test_states_are_told_apart(client, alice, dev, org):
    issue(dev, name="Soon", expires_at=timezone.now() + datetime.timedelta(days=3))
    old, _ = issue(dev, name="Rotated")
    services.rotate_token(token=old, grace="24h", by=dev)
    login(client, alice)
    expiring = inventory(client, org, state="expiring").content.decode()
    assert "Soon" in expiring and "Rotated" not in expiring
    rotating = inventory(client, org, state="rotating").content.decode()
    assert "Rotated" in rotating and "Soon" not in rotating


def test_the_number_of_queries_does_not_grow_with_the_credentials(client, alice, dev, agent, org):
    login(client, alice)
    issue(dev)
    make_api_key(alice)
    make_client(dev)
    login_pair(agent)
    inventory(client, org)  # warm the session and site caches
    with CaptureQueriesContext(connection) as few:
        inventory(client, org)
    for n in range(5):
        issue(dev, name=f"t{n}")
        issue(alice, name=f"a{n}")
        make_api_key(alice, name=f"k{n}")
        make_client(dev, name=f"c{n}")
        login_pair(agent)
        login_pair(dev)
    with CaptureQueriesContext(connection) as many:
        response = inventory(client, org)
    assert response.status_code == 200
    assert len(many) == len(few)


def test_a_developer_gets_403(client, dev, org):
    assert inventory(login(client, dev), org).status_code == 403


def test_an_outsider_gets_404(client, mallory, org):
    assert inventory(login(client, mallory), org).status_code == 404


def test_another_organizations_credentials_are_not_listed(client, alice, mallory, org):
    issue(mallory, name="Globex secret project")
    assert "Globex secret project" not in inventory(login(client, alice), org).content.decode()


def test_the_admin_tab_access_tokens_opens_the_inventory(client, alice, org):
    html = login(client, alice).get(reverse("admin_members", args=[org.public_id])).content.decode()
    assert f'href="{reverse("credential_inventory", args=[org.public_id])}"' in html


def test_admin_ends_a_members_session_after_confirming(client, alice, agent, org):
    pair = login_pair(agent, user_agent="phone-app/2")
    family = pair.refresh_token.token_family
    end = reverse("member_session_end", args=[org.public_id, family])
    login(client, alice)
    assert "phone-app/2" in client.get(end).content.decode()
    assert client.post(end).status_code == 302
    pair.access_token.refresh_from_db()
    assert pair.access_token.is_revoked()
    assert "phone-app/2" not in inventory(client, org).content.decode()


def test_another_organizations_session_cannot_be_ended(client, alice, mallory, other_org, org):
    pair = login_pair(mallory)
    end = reverse("member_session_end", args=[org.public_id, pair.refresh_token.token_family])
    assert login(client, alice).post(end).status_code == 404
    pair.access_token.refresh_from_db()
    assert not pair.access_token.is_revoked()
    assert membership(mallory).organization == other_org


def test_members_authorized_apps_are_listed_with_a_way_to_end_them(client, alice, dev, agent, org):
    from tests.tokens.oauth.helpers import grant

    application, secret = make_client(dev, name="Reporting")
    grant(agent, application, secret, scope="read.me")
    html = inventory(login(client, alice), org, kind="oauth").content.decode()
    assert "OAuth grant" in html and "agent@acme.test" in html
    assert reverse("oauth_client_delete", args=[org.public_id, application.pk]) in html


def test_a_rotated_token_is_one_row_whose_delete_link_works(client, alice, dev, org):
    old, _ = issue(dev, name="Rotated once")
    new = services.rotate_token(token=old, grace="24h", by=dev).credential
    login(client, alice)
    html = inventory(client, org, state="rotating").content.decode()
    assert html.count("<strong>Rotated once</strong>") == 1
    delete_url = reverse("token_delete", args=[org.public_id, new.pk])
    assert delete_url in html
    assert client.get(delete_url).status_code == 200


def test_every_counted_row_carries_a_24_hour_sparkline(client, alice, dev, org, api):
    from tests.factories import bearer
    from tokens.usage import counter

    _token, secret = issue(dev, name="Busy", scopes=["read.me"])
    api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    login(client, alice)
    html = inventory(client, org).content.decode()
    assert 'aria-label="1 request in the last 24 hours"' in html
