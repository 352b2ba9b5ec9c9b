"""Usage in the portal: each credential's page draws its requests (SVG, with a table saying the
same), list rows carry a 24 h sparkline, scopes are marked by last use, and admins get the
organization's usage page."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import bearer, issue, make_api_key, make_client
from tokens.models import UsageMinute
from tokens.usage import counter, storage

pytestmark = pytest.mark.django_db


def _page(client, user, name, **kwargs):
    client.force_login(user)
    org = user.memberships.get().organization
    return client.get(reverse(name, kwargs={"org_id": org.public_id, **kwargs}))


def test_a_tokens_page_charts_its_requests_with_a_table_alternative(client, api, dev):
    token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    for _ in range(3):
        api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    response = _page(client, dev, "token_detail", token_id=token.pk)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="usage-chart"' in html and 'role="img"' in html
    assert "3 requests, 0 of them errors" in html  # the chart's description
    assert "The same as a table" in html
    assert "GET /api/v1/me" in html
    assert "127.0.0.1" in html


def test_each_granted_scope_is_marked_by_its_last_use(client, api, dev):
    token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    yesterday = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(days=1)
    storage.ensure_partitions({yesterday.date()})
    UsageMinute.objects.create(
        bucket=yesterday,
        credential_kind="personal",
        credential_id=token.pk,
        organization_id=token.organization_id,
        operation="GET /api/v1/tokens",
        status=200,
        scope="read.tokens",
        client_ip="127.0.0.1",
        count=1,
    )
    html = _page(client, dev, "token_detail", token_id=token.pk).content.decode()
    scopes = html[html.index('id="usage-scopes"') :]
    assert "never used" not in scopes
    assert "last used" in scopes


def test_a_scope_never_used_is_marked_never_used(client, api, dev):
    token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    html = _page(client, dev, "token_detail", token_id=token.pk).content.decode()
    assert "never used" in html[html.index('id="usage-scopes"') :]


def test_the_period_links_choose_the_chart(client, dev):
    token, _secret = issue(dev, scopes=["read.me"])
    client.force_login(dev)
    org = dev.memberships.get().organization
    url = reverse("token_detail", kwargs={"org_id": org.public_id, "token_id": token.pk})
    html = client.get(url + "?period=30d").content.decode()
    assert "per day" in html
    assert 'href="?period=30d#usage" aria-current="true"' in html


def test_an_unknown_period_shows_the_default(client, dev):
    token, _secret = issue(dev, scopes=["read.me"])
    client.force_login(dev)
    org = dev.memberships.get().organization
    url = reverse("token_detail", kwargs={"org_id": org.public_id, "token_id": token.pk})
    response = client.get(url + "?period=<script>")
    assert response.status_code == 200
    assert 'href="?period=24h#usage" aria-current="true"' in response.content.decode()


def test_every_token_row_carries_a_24_hour_sparkline(client, api, dev):
    _token, secret = issue(dev, scopes=["read.me"])
    for _ in range(2):
        api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    html = _page(client, dev, "tokens").content.decode()
    assert 'aria-label="2 requests in the last 24 hours"' in html


def test_api_key_and_oauth_client_pages_chart_their_usage(client, alice):
    key, _ = make_api_key(alice, scopes=["read.me"])
    app, _ = make_client(alice)
    assert (
        'class="usage-chart"'
        in _page(client, alice, "api_key_detail", key_id=key.pk).content.decode()
    )
    assert (
        'class="usage-chart"'
        in _page(client, alice, "oauth_client_detail", client_pk=app.pk).content.decode()
    )


def test_api_key_and_oauth_client_rows_carry_sparklines(client, alice):
    make_api_key(alice, scopes=["read.me"])
    make_client(alice)
    assert "no requests in 24 h" in _page(client, alice, "api_keys").content.decode()
    assert "no requests in 24 h" in _page(client, alice, "oauth_clients").content.decode()


def test_the_organization_usage_page_names_the_busiest_and_the_idle(client, api, alice, dev):
    _busy, secret = issue(dev, scopes=["read.me"], name="busy one")
    idle, _ = issue(dev, scopes=["read.me"], name="idle one")
    type(idle).objects.filter(pk=idle.pk).update(created=idle.created - dt.timedelta(days=100))
    for _ in range(4):
        api.get("/api/v1/me", **bearer(secret))
    counter.flush()
    html = _page(client, alice, "organization_usage").content.decode()
    busiest = html[html.index('id="busiest"') :]
    assert "busy one" in busiest and ">4<" in busiest
    idle_table = html[html.index('id="idle"') :]
    assert "idle one" in idle_table and "90 days +" in idle_table
    assert "busy one" not in idle_table


def test_the_organization_usage_page_is_for_admins(client, dev):
    assert _page(client, dev, "organization_usage").status_code in (403, 404)
