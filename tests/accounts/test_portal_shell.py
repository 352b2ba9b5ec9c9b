"""The portal's shell: skip link, the current page marked, the org switcher only when there is
a choice and keeping the page."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Organization, Role
from tests.factories import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def labs(org, alice):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.ADMIN, developer_access=True)
    return labs


def test_every_page_has_a_skip_link_to_main(client, dev, org):
    html = login(client, dev).get(reverse("org_home", args=[org.public_id])).content.decode()
    assert 'href="#main"' in html and 'id="main"' in html


def test_the_current_section_and_tab_are_marked(client, alice, org):
    html = login(client, alice).get(reverse("admin_members", args=[org.public_id])).content.decode()
    members = reverse("admin_members", args=[org.public_id])
    assert f'href="{members}" aria-current="true">Admin' in html
    assert f'href="{members}" aria-current="page">Members' in html


def test_one_organization_means_no_switcher(client, dev, org):
    html = login(client, dev).get(reverse("org_home", args=[org.public_id])).content.decode()
    assert 'id="org-select"' not in html
    assert org.public_id in html  # the Org ID is still shown


def test_two_organizations_show_the_switcher(client, alice, labs, org):
    html = login(client, alice).get(reverse("org_home", args=[org.public_id])).content.decode()
    assert 'id="org-select"' in html


def test_switching_keeps_the_page_when_it_exists_in_the_other_org(client, alice, labs, org):
    login(client, alice)
    response = client.get(
        reverse("switch_org"),
        {"org": labs.public_id, "next": reverse("audit_log", args=[org.public_id])},
    )
    assert response["Location"] == reverse("audit_log", args=[labs.public_id])


def test_switching_from_an_objects_page_lands_on_the_overview(client, alice, labs, org):
    login(client, alice)
    response = client.get(
        reverse("switch_org"),
        {"org": labs.public_id, "next": reverse("token_detail", args=[org.public_id, 7])},
    )
    assert response["Location"] == reverse("org_home", args=[labs.public_id])


def test_switching_never_lands_on_a_page_the_person_may_not_open(client, dev, org):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs")
    Membership.objects.create(user=dev, organization=labs, role=Role.AGENT)
    login(client, dev)
    response = client.get(
        reverse("switch_org"),
        {"org": labs.public_id, "next": reverse("tokens", args=[org.public_id])},
    )
    assert response["Location"] == reverse("org_home", args=[labs.public_id])


def test_switching_ignores_a_next_outside_the_portal(client, alice, labs):
    login(client, alice)
    response = client.get(
        reverse("switch_org"), {"org": labs.public_id, "next": "https://evil.example/orgs/x/"}
    )
    assert response["Location"] == reverse("org_home", args=[labs.public_id])


def test_the_scopes_reference_is_inside_the_portal_layout(client, dev):
    html = login(client, dev).get(reverse("api_scopes")).content.decode()
    assert 'class="topbar"' in html and 'class="table-scroll"' in html
