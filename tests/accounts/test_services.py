"""accounts.services: the one place that writes organizations, groups and memberships."""

import pytest

from accounts import services
from accounts.errors import Refused
from accounts.models import Invitation, Membership, Organization, Role, User

pytestmark = pytest.mark.django_db


def test_create_organization_makes_its_creator_an_admin_with_developer_access(alice):
    organization = services.create_organization(name="New", slug="new", by=alice)
    membership = Membership.objects.get(user=alice, organization=organization)
    assert (membership.role, membership.developer_access) == (Role.ADMIN, True)


def test_create_organization_refuses_a_taken_slug(alice, org):
    with pytest.raises(Refused) as refused:
        services.create_organization(name="Again", slug=org.slug, by=alice)
    assert (refused.value.code, refused.value.field, refused.value.status) == (
        "slug_taken",
        "slug",
        400,
    )
    assert Organization.objects.filter(name="Again").count() == 0


def test_create_organization_group_makes_its_creator_the_owner(alice):
    group = services.create_organization_group(name="G", slug="g", by=alice)
    assert list(group.owners.all()) == [alice]


def test_create_organization_group_refuses_a_taken_slug(alice, group):
    with pytest.raises(Refused) as refused:
        services.create_organization_group(name="G", slug=group.slug, by=alice)
    assert refused.value.code == "slug_taken"


def test_nobody_grants_a_role_above_their_own(dev, agent):
    membership = Membership.objects.get(user=dev)
    with pytest.raises(Refused) as refused:
        services.update_member(membership=membership, by=agent, by_role=Role.AGENT, role=Role.ADMIN)
    assert refused.value.code == "role_not_allowed"
    membership.refresh_from_db()
    assert membership.role == Role.BOT


def test_update_member_changes_the_role(alice, agent):
    membership = Membership.objects.get(user=agent)
    services.update_member(membership=membership, by=alice, by_role=Role.ADMIN, role=Role.BOT)
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


# Invitations: adding a person needs their consent, and never reveals their account.


def test_inviting_a_new_email_creates_the_account_but_no_membership_yet(alice, org):
    invitation = services.invite_member(
        organization=org,
        email="New@Example.test",
        role=Role.AGENT,
        by=alice,
        by_role=Role.ADMIN,
        name="Newton",
    )
    assert invitation.email == "new@example.test" and invitation.accepted_at is None
    user = User.objects.get(email="new@example.test")
    assert user.name == "Newton" and not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()


def test_inviting_a_person_of_another_org_changes_nothing_of_theirs(alice, org, mallory):
    services.invite_member(
        organization=org,
        email=mallory.email,
        role=Role.AGENT,
        by=alice,
        by_role=Role.ADMIN,
        name="Renamed",
    )
    mallory.refresh_from_db()
    assert mallory.name == ""
    assert not Membership.objects.filter(user=mallory, organization=org).exists()


def test_inviting_again_refreshes_the_one_pending_invitation(alice, org):
    first = services.invite_member(
        organization=org, email="x@example.test", role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )
    again = services.invite_member(
        organization=org, email="X@example.test", role=Role.BOT, by=alice, by_role=Role.ADMIN
    )
    assert first.pk == again.pk
    assert Invitation.objects.get().role == Role.BOT


def test_inviting_a_member_is_refused_with_already_member(alice, org, agent):
    with pytest.raises(Refused) as refused:
        services.invite_member(
            organization=org, email=agent.email, role=Role.AGENT, by=alice, by_role=Role.ADMIN
        )
    assert (refused.value.code, refused.value.field) == ("already_member", "email")


def test_nobody_invites_with_a_role_above_their_own(dev, org):
    with pytest.raises(Refused) as refused:
        services.invite_member(
            organization=org, email="x@example.test", role=Role.ADMIN, by=dev, by_role=Role.BOT
        )
    assert refused.value.code == "role_not_allowed"
    assert not Invitation.objects.exists()


def test_accepting_an_invitation_makes_the_membership_it_offered(alice, org, mallory):
    invitation = services.invite_member(
        organization=org,
        email=mallory.email,
        role=Role.AGENT,
        by=alice,
        by_role=Role.ADMIN,
        developer_access=True,
    )
    membership = services.accept_invitation(invitation=invitation, user=mallory)
    assert (membership.organization, membership.role, membership.developer_access) == (
        org,
        Role.AGENT,
        True,
    )
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_only_the_invited_person_accepts(alice, org, mallory, agent):
    invitation = services.invite_member(
        organization=org, email=mallory.email, role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )
    with pytest.raises(Refused) as refused:
        services.accept_invitation(invitation=invitation, user=agent)
    assert (refused.value.code, refused.value.status) == ("no_invitation", 404)
    assert not Membership.objects.filter(user=mallory, organization=org).exists()


def test_an_invitation_is_accepted_once(alice, org, mallory):
    invitation = services.invite_member(
        organization=org, email=mallory.email, role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )
    services.accept_invitation(invitation=invitation, user=mallory)
    with pytest.raises(Refused):
        services.accept_invitation(invitation=invitation, user=mallory)


def test_declining_deletes_the_invitation(alice, org, mallory):
    invitation = services.invite_member(
        organization=org, email=mallory.email, role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )
    services.decline_invitation(invitation=invitation, user=mallory)
    assert not Invitation.objects.exists()


# Names belong to their person.


def test_an_admin_of_every_org_of_a_person_may_rename_them(alice, agent):
    services.update_member(
        membership=Membership.objects.get(user=agent),
        by=alice,
        by_role=Role.ADMIN,
        name="Agent Smith",
    )
    agent.refresh_from_db()
    assert agent.name == "Agent Smith"


def test_nobody_outside_one_of_a_persons_orgs_renames_them(alice, agent, other_org):
    Membership.objects.create(user=agent, organization=other_org, role=Role.AGENT)
    with pytest.raises(Refused) as refused:
        services.update_member(
            membership=Membership.objects.get(user=agent, organization__slug="acme"),
            by=alice,
            by_role=Role.ADMIN,
            name="Renamed",
        )
    assert (refused.value.code, refused.value.status) == ("name_not_allowed", 403)
    agent.refresh_from_db()
    assert agent.name == ""


def test_a_person_may_rename_themself_as_a_member(alice, other_org):
    Membership.objects.create(user=alice, organization=other_org, role=Role.AGENT)
    services.update_member(
        membership=Membership.objects.get(user=alice, organization__slug="acme"),
        by=alice,
        by_role=Role.ADMIN,
        name="Alice",
    )
    alice.refresh_from_db()
    assert alice.name == "Alice"


# Organization groups belong to their owners.


def test_only_an_owner_renames_a_group(group, alice, dev):
    with pytest.raises(Refused) as refused:
        services.update_organization_group(group=group, by=dev, name="Taken over")
    assert (refused.value.code, refused.value.status) == ("not_group_owner", 403)
    assert services.update_organization_group(group=group, by=alice, name="Acme Holding") == [
        "name"
    ]
    group.refresh_from_db()
    assert group.name == "Acme Holding"


def test_only_an_owner_deletes_a_group(group, org, alice, dev):
    with pytest.raises(Refused):
        services.delete_organization_group(group=group, by=dev)
    services.delete_organization_group(group=group, by=alice)
    org.refresh_from_db()
    assert org.group is None


# The last admin stays.


def test_the_last_admin_cannot_be_demoted(alice, org):
    with pytest.raises(Refused) as refused:
        services.update_member(
            membership=Membership.objects.get(user=alice),
            by=alice,
            by_role=Role.ADMIN,
            role=Role.AGENT,
        )
    assert refused.value.code == "last_admin"
    assert Membership.objects.get(user=alice).role == Role.ADMIN


def test_the_last_admin_cannot_be_removed_even_by_a_service_account(alice, bot, org):
    Membership.objects.filter(user=bot).update(
        role=Role.ADMIN
    )  # an organization's own account is admin
    with pytest.raises(Refused) as refused:
        services.remove_member(membership=Membership.objects.get(user=alice), by=bot)
    assert refused.value.code == "last_admin"
    assert Membership.objects.filter(user=alice).exists()


def test_an_admin_may_step_down_when_another_admin_remains(alice, dev, org):
    Membership.objects.filter(user=dev).update(role=Role.ADMIN)
    services.update_member(
        membership=Membership.objects.get(user=alice), by=alice, by_role=Role.ADMIN, role=Role.AGENT
    )
    assert Membership.objects.get(user=alice).role == Role.AGENT


def test_developer_access_is_granted_and_removed(alice, agent):
    member = Membership.objects.get(user=agent)
    services.update_member(membership=member, by=alice, by_role=Role.ADMIN, developer_access=True)
    assert Membership.objects.get(user=agent).developer_access is True
    services.update_member(membership=member, by=alice, by_role=Role.ADMIN, developer_access=False)
    assert Membership.objects.get(user=agent).developer_access is False
