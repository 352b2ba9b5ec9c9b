"""accounts.services: the one place that writes organizations, groups and memberships."""

import pytest

from accounts import services
from accounts.errors import Refused
from accounts.models import Membership, Organization, Role, User

pytestmark = pytest.mark.django_db


def test_create_organization_makes_its_creator_an_admin_with_developer_access(alice):
    organization = services.create_organization(name="New", slug="new", by=alice)
    membership = Membership.objects.get(user=alice, organization=organization)
    assert (membership.role, membership.developer_access) == (Role.ADMIN, True)


def test_create_organization_refuses_a_taken_slug(alice, org):
    with pytest.raises(Refused) as refused:
        services.create_organization(name="Again", slug=org.slug, by=alice)
    assert (refused.value.code, refused.value.field, refused.value.status) == ("slug_taken", "slug", 400)
    assert Organization.objects.filter(name="Again").count() == 0


def test_create_organization_group_makes_its_creator_the_owner(alice):
    group = services.create_organization_group(name="G", slug="g", by=alice)
    assert list(group.owners.all()) == [alice]


def test_create_organization_group_refuses_a_taken_slug(alice, group):
    with pytest.raises(Refused) as refused:
        services.create_organization_group(name="G", slug=group.slug, by=alice)
    assert refused.value.code == "slug_taken"


def test_nobody_grants_a_role_above_their_own(dev):
    membership = Membership.objects.get(user=dev)
    with pytest.raises(Refused) as refused:
        services.update_member(membership=membership, by_role=Role.AGENT, role=Role.ADMIN)
    assert refused.value.code == "role_not_allowed"
    membership.refresh_from_db()
    assert membership.role == Role.BOT


def test_update_member_changes_the_role(alice, agent):
    membership = Membership.objects.get(user=agent)
    services.update_member(membership=membership, by_role=Role.ADMIN, role=Role.BOT)
    membership.refresh_from_db()
    assert membership.role == Role.BOT


def test_nobody_removes_themself(alice):
    membership = Membership.objects.get(user=alice)
    with pytest.raises(Refused) as refused:
        services.remove_member(membership=membership, by=alice)
    assert refused.value.code == "cannot_remove_self"
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_removing_a_member_keeps_the_account(alice, agent):
    services.remove_member(membership=Membership.objects.get(user=agent), by=alice)
    assert not Membership.objects.filter(user=agent).exists()
    assert User.objects.filter(pk=agent.pk).exists()


def test_organization_account_is_one_admin_service_account_created_once(org):
    first = services.organization_account(org)
    again = services.organization_account(org)
    assert first.pk == again.pk
    assert first.role == Role.ADMIN
    assert first.user.is_service_account and not first.user.has_usable_password()
    assert first.user.email == f"api-client@{org.slug}.keyward.invalid"
