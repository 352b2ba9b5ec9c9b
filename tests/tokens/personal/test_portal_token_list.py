"""The token list: who sees which tokens, what a row says, and a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import issue, login, membership
from tokens.models import AccessToken
from tokens.personal import services

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def tokens_url(org):
    return reverse("tokens", args=[org.public_id])


def list_html(client, org, **params):
    response = client.get(tokens_url(org), params, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_developer_sees_their_own_tokens_but_not_alices(client, dev, alice, org):
    mine, _ = issue(dev, name="dev's token")
    hers, _ = issue(alice, name="alice's token")
    login(client, dev)
    html = list_html(client, org)
    assert f'id="token-row-{mine.pk}"' in html
    assert f'id="token-row-{hers.pk}"' not in html


def test_admin_sees_every_personal_token_of_the_organization(client, dev, alice, bot, org):
    tokens = [issue(dev)[0], issue(alice)[0]]
    tokens.append(
        services.issue_personal_token(
            issuer=membership(alice), owner=membership(bot), name="bot", scopes=["read.me"]
        ).credential
    )
    login(client, alice)
    html = list_html(client, org)
    assert all(f'id="token-row-{token.pk}"' in html for token in tokens)
    assert "bot@acme.test" in html and "by alice@acme.test" in html


def test_admin_does_not_see_another_organizations_tokens(client, alice, mallory, org):
    theirs, _ = issue(mallory)
    login(client, alice)
    assert f'id="token-row-{theirs.pk}"' not in list_html(client, org)


def test_a_revoked_token_is_not_listed(client, dev, org):
    token, _ = issue(dev)
    services.revoke_token(token=token, by=dev)
    login(client, dev)
    assert f'id="token-row-{token.pk}"' not in list_html(client, org)


def test_a_token_in_its_rotation_overlap_is_listed_once_with_its_deadline(client, dev, org):
    token, _ = issue(dev, name="rotating")
    new = services.rotate_token(token=token, grace="24h", by=dev).credential
    token.refresh_from_db()
    login(client, dev)
    html = list_html(client, org)
    assert f'id="token-row-{token.pk}"' not in html and f'id="token-row-{new.pk}"' in html
    deadline = f"{timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M}"
    assert f"previous secret works until {deadline}" in html


def test_a_row_shows_name_scopes_last_four_owner_created_and_never(client, dev, org):
    token, secret = issue(dev, name="CI", scopes=["read.me", "read.chats"])
    login(client, dev)
    row = list_html(client, org).split(f'id="token-row-{token.pk}"')[1].split("</tr>")[0]
    assert ">CI</a>" in row
    assert "<code>read.me</code>" in row and "<code>read.chats</code>" in row
    assert f"<code>…{secret[-4:]}</code>" in row
    assert "dev@acme.test" in row
    assert f"{timezone.localtime(token.created):%Y-%m-%d %H:%M}" in row
    assert row.count("never") == 2  # expires never, never used


def test_an_expired_token_is_flagged(client, dev, org):
    token, _ = issue(dev, expires_at=timezone.now() + datetime.timedelta(days=1))
    AccessToken.objects.filter(pk=token.pk).update(
        expires=timezone.now() - datetime.timedelta(hours=1)
    )
    login(client, dev)
    row = list_html(client, org).split(f'id="token-row-{token.pk}"')[1].split("</tr>")[0]
    assert '<span class="badge expired">expired</span>' in row


def test_last_use_shows_when_and_from_where(client, dev, org):
    token, _ = issue(dev)
    used = timezone.now() - datetime.timedelta(minutes=5)
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=used, last_used_ip="203.0.113.7")
    login(client, dev)
    row = list_html(client, org).split(f'id="token-row-{token.pk}"')[1].split("</tr>")[0]
    assert f"{timezone.localtime(used):%Y-%m-%d %H:%M}" in row
    assert "from 203.0.113.7" in row


def _count_queries(client, org, headers=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(tokens_url(org), headers=headers or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_list_costs_the_same_queries_for_1_and_30_tokens(client, alice, dev, org, headers):
    issue(dev)
    login(client, alice)
    with_one = _count_queries(client, org, headers)
    for n in range(29):
        issue(dev if n % 2 else alice, name=f"token {n}")
    with_thirty = _count_queries(client, org, headers)
    assert with_one == with_thirty


def test_the_list_shows_25_tokens_a_page_newest_first(client, dev, org):
    tokens = [issue(dev, name=f"token {n}")[0] for n in range(30)]
    login(client, dev)
    first, second = list_html(client, org), list_html(client, org, page=2)
    assert first.count('id="token-row-') == 25 and second.count('id="token-row-') == 5
    assert f'id="token-row-{tokens[-1].pk}"' in first and f'id="token-row-{tokens[0].pk}"' in second
    assert "Page 1 of 2" in first
    assert f'href="{tokens_url(org)}?page=2"' in first


def test_with_htmx_the_list_is_just_its_fragment(client, dev, org):
    issue(dev)
    login(client, dev)
    response = client.get(tokens_url(org), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="token-list"')
    assert "<html" not in html and 'id="token-form"' not in html
    assert "HX-Request" in response["Vary"]


def test_without_htmx_the_list_is_a_full_page_with_the_form(client, dev, org):
    login(client, dev)
    response = client.get(tokens_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="token-form"' in html and 'id="token-list"' in html
    assert "No access tokens yet." in html


def test_developer_nav_links_to_access_tokens(client, dev, org):
    login(client, dev)
    response = client.get(reverse("developer_home", args=[org.public_id]))
    assert f'href="{tokens_url(org)}">Access tokens</a>' in response.content.decode()
