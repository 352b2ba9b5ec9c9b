"""The token detail panel: read, rename, rotate and delete (after a confirmation), for the right people only."""

import datetime
import hashlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import issue, login
from tokens.models import AccessToken, AuditEvent

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SECRET = re.compile(r'<code id="new-token-secret">([^<]+)</code>')


def url(name, org, token):
    return reverse(name, args=[org.public_id, token.pk])


def snapshot(token):
    return (
        AccessToken.objects.filter(pk=token.pk)
        .values("name", "revoked_at", "token_checksum", "updated")
        .get()
    )


# Reading


def test_detail_shows_name_scopes_expiry_created_and_last_use(client, dev, org):
    expires = timezone.now() + datetime.timedelta(days=30)
    token, _ = issue(
        dev, name="CI", scopes=["read.me", "read.chats"], expires_at=expires, ip="198.51.100.4"
    )
    AccessToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now(), last_used_ip="203.0.113.9"
    )
    login(client, dev)
    response = client.get(url("token_detail", org, token))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="token-name">CI</h2>' in html
    assert "<code>read.me</code> <code>read.chats</code>" in html
    assert f"{timezone.localtime(expires):%Y-%m-%d %H:%M}" in html
    assert "by dev@acme.test from 198.51.100.4" in html
    assert "from 203.0.113.9" in html
    assert "Scopes and expiry are fixed" in html


def test_detail_has_no_form_to_change_scopes_or_expiry(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    html = client.get(url("token_detail", org, token)).content.decode()
    assert 'name="scopes"' not in html and 'name="expiry"' not in html


def test_with_htmx_the_detail_is_just_its_fragment(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    response = client.get(url("token_detail", org, token), headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="token-detail"')


def test_developer_cannot_open_alices_token(client, dev, alice, org):
    token, _ = issue(alice)
    login(client, dev)
    assert client.get(url("token_detail", org, token)).status_code == 404


def test_admin_opens_a_developers_token(client, dev, alice, org):
    token, _ = issue(dev, name="dev's")
    login(client, alice)
    response = client.get(url("token_detail", org, token))
    assert response.status_code == 200
    assert "dev&#x27;s" in response.content.decode()


def test_a_revoked_token_has_no_detail_page(client, dev, org):
    from tokens.personal import services

    token, _ = issue(dev)
    services.revoke_token(token=token, by=dev)
    login(client, dev)
    assert client.get(url("token_detail", org, token)).status_code == 404


# Renaming


def test_developer_renames_their_token(client, dev, org):
    token, _ = issue(dev, name="old name")
    login(client, dev)
    response = client.post(url("token_rename", org, token), {"name": "new name"}, headers=HTMX)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.name == "new name"
    assert AuditEvent.objects.filter(credential_id=token.pk, action="renamed").exists()
    assert '<h2 id="token-name">new name</h2>' in response.content.decode()
    assert response["HX-Trigger"] == "tokens-changed"


def test_rename_without_javascript_redirects_back_to_the_detail(client, dev, org):
    token, _ = issue(dev, name="old name")
    login(client, dev)
    response = client.post(url("token_rename", org, token), {"name": "new name"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.name == "new name"
    assert response["Location"] == url("token_detail", org, token)


def test_renaming_to_blank_shows_the_error_and_keeps_the_name(client, dev, org):
    token, _ = issue(dev, name="keep me")
    login(client, dev)
    response = client.post(url("token_rename", org, token), {"name": " "}, headers=HTMX)
    assert response.status_code == 400
    token.refresh_from_db()
    assert token.name == "keep me"
    assert 'id="rename-error">Give the token a name' in response.content.decode()


def test_rename_needs_post(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    assert client.get(url("token_rename", org, token)).status_code == 405


def test_admin_renames_a_developers_token(client, dev, alice, org):
    token, _ = issue(dev, name="dev's")
    login(client, alice)
    response = client.post(url("token_rename", org, token), {"name": "renamed by admin"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.name == "renamed by admin"


# Rotating


def test_rotate_shows_a_new_secret_once_and_keeps_the_old_one_for_the_grace_period(
    client, dev, org
):
    token, old_secret = issue(dev, name="CI")
    login(client, dev)
    response = client.post(
        url("token_rotate", org, token), {"grace_period": "24h"}, headers=HTMX, follow=True
    )
    assert response.status_code == 200
    token.refresh_from_db()
    new = AccessToken.objects.personal().exclude(pk=token.pk).get()
    assert token.revoked_at > timezone.now() + datetime.timedelta(hours=23)
    assert (new.name, new.scope, new.membership_id) == ("CI", token.scope, token.membership_id)
    html = response.content.decode()
    secret = SECRET.search(html).group(1)
    assert secret != old_secret
    assert new.token_checksum == hashlib.sha256(secret.encode()).hexdigest()
    assert "it will not be shown again" in html
    assert f"The old secret (…{token.last4}) keeps working until" in html
    assert "no-store" in response["Cache-Control"]
    assert response["HX-Replace-Url"] == url("token_detail", org, new)


def test_rotated_secret_is_not_shown_on_the_new_tokens_detail_afterwards(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    secret = SECRET.search(
        client.post(
            url("token_rotate", org, token), {"grace_period": "none"}, follow=True
        ).content.decode()
    ).group(1)
    new = AccessToken.objects.personal().exclude(pk=token.pk).get()
    response = client.get(url("token_detail", org, new))
    assert response.status_code == 200
    assert secret not in response.content.decode()


def test_rotating_without_grace_ends_the_old_secret_at_once(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    response = client.post(url("token_rotate", org, token), {"grace_period": "none"}, follow=True)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.is_revoked()
    assert f"The old secret (…{token.last4}) no longer works." in response.content.decode()


def test_a_token_already_rotated_cannot_be_rotated_again(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    client.post(url("token_rotate", org, token), {"grace_period": "7d"})
    response = client.post(url("token_rotate", org, token), {"grace_period": "7d"}, headers=HTMX)
    # Its old secret is now the previous secret of its successor, not a page of its own.
    assert response.status_code == 404
    assert AccessToken.objects.personal().count() == 2


def test_an_unknown_grace_period_is_refused(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    response = client.post(url("token_rotate", org, token), {"grace_period": "forever"})
    assert response.status_code == 400
    assert AccessToken.objects.personal().count() == 1


def test_rotate_needs_post(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    assert client.get(url("token_rotate", org, token)).status_code == 405


# Deleting


def test_delete_first_asks_for_confirmation_and_changes_nothing(client, dev, org):
    token, _ = issue(dev, name="CI")
    before = snapshot(token)
    login(client, dev)
    response = client.get(url("token_delete", org, token), headers=HTMX)
    assert response.status_code == 200
    assert snapshot(token) == before
    html = response.content.decode()
    assert "This cannot be undone." in html
    assert f'method="post" action="{url("token_delete", org, token)}"' in html


def test_confirming_the_delete_revokes_the_token(client, dev, org):
    token, _ = issue(dev, name="CI")
    login(client, dev)
    response = client.post(url("token_delete", org, token), headers=HTMX)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.is_revoked()
    assert AuditEvent.objects.filter(credential_id=token.pk, action="revoked").exists()
    assert "Token “CI”" in response.content.decode() and "deleted" in response.content.decode()
    assert response["HX-Trigger"] == "tokens-changed"


def test_delete_without_javascript_returns_to_the_list_without_the_token(client, dev, org):
    token, _ = issue(dev, name="CI")
    login(client, dev)
    response = client.post(url("token_delete", org, token), follow=True)
    assert response.redirect_chain == [(reverse("tokens", args=[org.public_id]), 302)]
    token.refresh_from_db()
    assert token.is_revoked()
    assert f'id="token-row-{token.pk}"' not in response.content.decode()


def test_admin_deletes_a_developers_token(client, dev, alice, org):
    token, _ = issue(dev)
    login(client, alice)
    response = client.post(url("token_delete", org, token))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_revoked()


def test_detail_lists_what_the_token_can_do_from_its_effective_scopes(client, dev, org):
    from tests.factories import issue, login

    token, _ = issue(dev, scopes=["read.me", "read.tokens"])
    login(client, dev)
    html = client.get(f"/orgs/{org.public_id}/developer/tokens/{token.pk}/").content.decode()
    can_do = html.split('id="token-can-do"')[1].split("</details>")[0]
    assert "GET /api/v1/me" in can_do and "GET /api/v1/tokens" in can_do
    assert "POST /api/v1/tokens" not in can_do
