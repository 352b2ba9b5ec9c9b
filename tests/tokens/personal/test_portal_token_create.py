"""Developer › Access tokens: generating a token from the portal and seeing its secret once."""

import datetime
import hashlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import login, membership
from tokens import scopes as catalog
from tokens.models import AccessToken, AuditEvent, TokenPolicy

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SECRET = re.compile(r'<code id="new-token-secret">([^<]+)</code>')


def tokens_url(org):
    return reverse("tokens", args=[org.public_id])


def create_url(org):
    return reverse("token_create", args=[org.public_id])


def generate(client, org, headers=None, **fields):
    data = {"name": "CI deploys", "expiry": "30", "scopes": ["read.me"], **fields}
    # Post/Redirect/Get: the POST answers 303 to the result page, which shows the secret once.
    return client.post(create_url(org), data, headers=headers or {}, follow=True)


def shown_secret(response):
    return SECRET.search(response.content.decode()).group(1)


def test_developer_creates_a_token_of_which_only_the_digest_is_stored(client, dev, org):
    login(client, dev)
    response = generate(client, org)
    assert response.status_code == 200
    token = AccessToken.objects.get(name="CI deploys")
    secret = shown_secret(response)
    assert token.membership == membership(dev)
    assert token.scope == "read.me"
    assert token.token == ""
    assert token.token_checksum == hashlib.sha256(secret.encode()).hexdigest()
    assert token.last4 == secret[-4:]


def test_new_secret_is_shown_once_with_a_copy_button_a_curl_line_and_a_warning(client, dev, org):
    login(client, dev)
    response = generate(client, org)
    assert response.status_code == 200
    secret = shown_secret(response)
    assert secret.startswith("kw_pat_")
    html = response.content.decode()
    assert html.count(secret) == 2  # the secret itself and the curl line
    assert 'data-copy="#new-token-secret"' in html
    assert f'curl -H "Authorization: Bearer {secret}" http://testserver/api/v1/me' in html
    assert "it will not be shown again" in html


def test_showing_the_secret_is_recorded_in_the_audit_log(client, dev, org):
    login(client, dev)
    generate(client, org)
    token = AccessToken.objects.get(name="CI deploys")
    actions = list(
        AuditEvent.objects.filter(credential_id=token.pk).values_list("action", flat=True)
    )
    assert sorted(actions) == ["issued", "secret_shown"]


def test_secret_is_not_shown_again_on_a_reload_of_the_list_or_the_detail(client, dev, org):
    login(client, dev)
    secret = shown_secret(generate(client, org))
    token = AccessToken.objects.get(name="CI deploys")
    pages = [
        client.get(tokens_url(org)),
        client.get(tokens_url(org), headers=HTMX),
        client.get(reverse("token_detail", args=[org.public_id, token.pk])),
    ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert all(secret not in page.content.decode() for page in pages)
    assert all('id="new-token-secret"' not in page.content.decode() for page in pages)
    assert f"…{token.last4}" in pages[0].content.decode()


def test_with_htmx_the_result_is_just_the_create_fragment_and_the_list_is_told_to_reload(
    client, dev, org
):
    login(client, dev)
    response = generate(client, org, headers=HTMX)
    assert response.status_code == 200
    assert AccessToken.objects.filter(name="CI deploys").exists()
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="token-create"')
    assert "<html" not in html
    assert 'id="new-token-secret"' in html
    assert response["HX-Trigger"] == "tokens-changed"
    assert "no-store" in response["Cache-Control"]


def test_a_missing_name_is_shown_next_to_the_name_field(client, dev, org):
    login(client, dev)
    response = generate(client, org, name="  ")
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    assert re.search(r'id="name-error">Give the token a name', response.content.decode())


def test_no_scope_picked_is_shown_next_to_the_scopes(client, dev, org):
    login(client, dev)
    response = generate(client, org, scopes=[])
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    assert 'id="scopes-error">Pick at least one scope.' in response.content.decode()


def test_a_scope_beyond_the_developers_role_is_refused(client, dev, org):
    login(client, dev)
    response = generate(client, org, scopes=["read.me", "delete.users"])
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    assert (
        "You cannot grant scopes beyond your own role: delete.users." in response.content.decode()
    )


def test_errors_are_re_rendered_as_a_fragment_with_htmx_keeping_what_was_typed(client, dev, org):
    login(client, dev)
    response = generate(client, org, headers=HTMX, name="", scopes=["read.chats"])
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    html = response.content.decode()
    assert "<html" not in html
    assert 'value="read.chats" checked' in html


def test_policy_requiring_an_expiry_refuses_a_token_without_one(client, dev, org):
    TokenPolicy.objects.create(organization=org, require_expiry=True)
    login(client, dev)
    response = generate(client, org, expiry="none")
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    assert 'id="expiry-error">Your organization requires every token to have an expiry date.' in (
        response.content.decode()
    )


def test_policy_cap_refuses_a_date_beyond_it(client, dev, org):
    TokenPolicy.objects.create(organization=org, max_lifetime_days=30)
    login(client, dev)
    too_far = timezone.localdate() + datetime.timedelta(days=45)
    response = generate(client, org, expiry="date", expires_on=too_far.isoformat())
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    assert "Your organization allows tokens to live at most 30 days." in response.content.decode()


def test_policy_live_token_limit_is_shown_above_the_form(client, dev, org):
    TokenPolicy.objects.create(organization=org, max_live_tokens_per_member=1)
    login(client, dev)
    generate(client, org, name="first")
    response = generate(client, org, name="second")
    assert response.status_code == 400
    assert list(AccessToken.objects.values_list("name", flat=True)) == ["first"]
    assert "The organization allows 1 live tokens per member" in response.content.decode()


def test_the_form_offers_only_the_expiries_the_policy_allows_and_states_the_policy(
    client, dev, org
):
    TokenPolicy.objects.create(organization=org, require_expiry=True, max_lifetime_days=60)
    login(client, dev)
    response = client.get(tokens_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    options = re.findall(
        r'<option value="([^"]+)"', html.split('id="id_expiry"')[1].split("</select>")[0]
    )
    assert options == ["7", "30", "60", "date"]
    assert "every token needs an expiry" in html
    assert "tokens live at most 60 days" in html


def test_a_date_expiry_ends_the_token_when_that_day_begins(client, dev, org):
    login(client, dev)
    day = timezone.localdate() + datetime.timedelta(days=10)
    response = generate(client, org, expiry="date", expires_on=day.isoformat())
    assert response.status_code == 200
    expires = AccessToken.objects.get().expires
    assert timezone.localtime(expires).date() == day
    assert timezone.localtime(expires).time() == datetime.time.min


def test_a_day_count_expiry_ends_the_token_that_many_days_from_now(client, dev, org):
    login(client, dev)
    response = generate(client, org, expiry="7")
    assert response.status_code == 200
    left = AccessToken.objects.get().expires - timezone.now()
    assert datetime.timedelta(days=6, hours=23) < left <= datetime.timedelta(days=7)


def test_the_picker_shows_every_domain_and_scope_of_the_catalog(client, dev, org):
    login(client, dev)
    response = client.get(tokens_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    for domain in catalog.DOMAINS:
        assert f'name="all_of" value="{domain.name}"' in html
        for scope in domain.scopes:
            assert f'name="scopes" value="{scope.name}"' in html
    for role in catalog.ROLE_BUNDLES:
        assert f'name="scopes" value="{role}" data-preset=' in html


def test_scopes_beyond_the_role_are_shown_disabled(client, dev, org):
    login(client, dev)
    html = client.get(tokens_url(org)).content.decode()
    assert 'value="delete.users" disabled' in html
    assert re.search(r'value="admin" data-preset="[^"]*" disabled', html)


def test_all_of_a_domain_grants_every_scope_of_it_the_member_may_grant_without_javascript(
    client, dev, org
):
    login(client, dev)
    response = generate(client, org, scopes=[], all_of=["Contacts"])
    assert response.status_code == 200
    allowed = catalog.allowed_for("bot", True)
    contacts = next(d for d in catalog.DOMAINS if d.name == "Contacts")
    expected = [s.name for s in contacts.scopes if s.name in allowed]
    assert AccessToken.objects.get().scope.split() == expected


def test_a_role_preset_grants_the_fine_scopes_of_its_bundle(client, dev, org):
    login(client, dev)
    response = generate(client, org, scopes=["agent"])
    assert response.status_code == 200
    assert set(AccessToken.objects.get().scope.split()) == catalog.ROLE_BUNDLES["agent"]


def test_admin_issues_a_token_owned_by_a_service_account(client, alice, bot, org):
    login(client, alice)
    response = generate(client, org, owner=str(membership(bot).pk))
    assert response.status_code == 200
    token = AccessToken.objects.get()
    assert token.membership == membership(bot)
    assert token.created_by == alice


def test_admin_sees_the_service_accounts_in_the_owner_select(client, alice, bot, org):
    login(client, alice)
    html = client.get(tokens_url(org)).content.decode()
    assert '<select id="id_owner" name="owner">' in html
    assert f'<option value="{membership(bot).pk}">bot@acme.test</option>' in html


def test_developer_gets_no_owner_select_and_cannot_pick_an_owner(client, dev, bot, org):
    login(client, dev)
    assert 'name="owner"' not in client.get(tokens_url(org)).content.decode()
    response = generate(client, org, owner=str(membership(bot).pk))
    assert response.status_code == 200
    assert AccessToken.objects.get().membership == membership(dev)


def test_an_owner_from_another_organization_is_refused(client, alice, mallory, org):
    login(client, alice)
    response = generate(client, org, owner=str(membership(mallory).pk))
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_anonymous_is_sent_to_log_in(client, org):
    response = client.get(tokens_url(org))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
