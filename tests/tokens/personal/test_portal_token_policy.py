"""Admin › Token policy: require an expiry, cap lifetimes and live tokens per member."""

import pytest
from django.urls import reverse

from tests.factories import login
from tokens.models import AuditEvent, TokenPolicy

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def policy_url(org):
    return reverse("token_policy", args=[org.public_id])


def test_admin_saves_the_policy(client, alice, org):
    login(client, alice)
    response = client.post(
        policy_url(org),
        {"require_expiry": "on", "max_lifetime_days": "90", "max_live_tokens_per_member": "5"},
        follow=True,
    )
    assert response.status_code == 200
    policy = TokenPolicy.objects.get(organization=org)
    assert (policy.require_expiry, policy.max_lifetime_days, policy.max_live_tokens_per_member) == (
        True,
        90,
        5,
    )
    assert AuditEvent.objects.filter(
        organization=org, action="policy_changed", actor=alice
    ).exists()
    assert "Token policy saved." in response.content.decode()


def test_admin_requires_exp_on_api_key_jwts_in_the_policy_form(client, alice, org):
    login(client, alice)
    response = client.post(policy_url(org), {"require_jwt_exp": "on"})
    assert response.status_code == 302
    policy = TokenPolicy.objects.get(organization=org)
    assert (policy.require_jwt_exp, policy.require_expiry) == (True, False)
    event = AuditEvent.objects.get(organization=org, action="policy_changed")
    assert "require JWT exp True" in event.detail
    html = client.get(policy_url(org)).content.decode()
    assert 'id="id_require_jwt_exp" name="require_jwt_exp" checked' in html


def test_the_form_shows_the_saved_policy(client, alice, org):
    TokenPolicy.objects.create(organization=org, require_expiry=True, max_lifetime_days=30)
    login(client, alice)
    response = client.get(policy_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_require_expiry" name="require_expiry" checked' in html
    assert 'name="max_lifetime_days" type="number" min="1" value="30"' in html
    assert 'name="max_live_tokens_per_member" type="number" min="1" value=""' in html


def test_empty_numbers_mean_no_cap(client, alice, org):
    TokenPolicy.objects.create(organization=org, max_lifetime_days=30, max_live_tokens_per_member=2)
    login(client, alice)
    response = client.post(
        policy_url(org), {"max_lifetime_days": "", "max_live_tokens_per_member": ""}
    )
    assert response.status_code == 302
    policy = TokenPolicy.objects.get(organization=org)
    assert (policy.require_expiry, policy.max_lifetime_days, policy.max_live_tokens_per_member) == (
        False,
        None,
        None,
    )


def test_with_htmx_saving_answers_the_form_fragment(client, alice, org):
    login(client, alice)
    response = client.post(policy_url(org), {"max_lifetime_days": "60"}, headers=HTMX)
    assert response.status_code == 200
    assert TokenPolicy.objects.get(organization=org).max_lifetime_days == 60
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="token-policy-form"')
    assert "Token policy saved." in html


def test_a_cap_below_one_is_refused_with_the_services_message(client, alice, org):
    login(client, alice)
    response = client.post(policy_url(org), {"max_lifetime_days": "0"})
    assert response.status_code == 400
    assert not TokenPolicy.objects.exists()
    assert (
        "The maximum lifetime must be at least 1, or empty for no cap." in response.content.decode()
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_developer_gets_403(client, dev, org, method):
    login(client, dev)
    response = getattr(client, method)(policy_url(org), {"require_expiry": "on"})
    assert response.status_code == 403
    assert not TokenPolicy.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404(client, mallory, org, method):
    login(client, mallory)
    response = getattr(client, method)(policy_url(org), {"require_expiry": "on"})
    assert response.status_code == 404
    assert not TokenPolicy.objects.exists()


def test_admin_nav_links_to_policy_and_audit_log(client, alice, org):
    login(client, alice)
    html = client.get(reverse("admin_members", args=[org.public_id])).content.decode()
    assert f'href="{policy_url(org)}">Token policy</a>' in html
    assert f'href="{reverse("audit_log", args=[org.public_id])}">Audit log</a>' in html
