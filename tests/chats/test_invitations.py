"""An invited person sees their invitations in the portal and accepts or declines them there."""

import pytest

from accounts import services
from accounts.models import Invitation, Membership, Role, User
from tokens.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(org, alice, mallory):
    return services.invite_member(
        organization=org, email=mallory.email, role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )


def test_the_invited_person_sees_the_invitation_on_their_organization_page(
    client, mallory, other_org, invitation
):
    client.force_login(mallory)
    page = client.get(f"/orgs/{other_org.public_id}/").content.decode()
    assert "Acme invites you as Agent" in page
    assert f"/invitations/{invitation.pk}/accept/" in page


def test_a_person_without_an_organization_sees_it_on_the_home_page(client, org, alice):
    invited = services.invite_member(
        organization=org, email="new@example.test", role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )
    user = User.objects.get(email="new@example.test")
    client.force_login(user)
    page = client.get("/").content.decode()
    assert f"/invitations/{invited.pk}/accept/" in page


def test_accepting_makes_the_membership_and_is_audited(client, mallory, org, invitation):
    client.force_login(mallory)
    response = client.post(f"/invitations/{invitation.pk}/accept/")
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/{org.public_id}/"
    assert Membership.objects.get(user=mallory, organization=org).role == Role.AGENT
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_ADDED)
    assert (event.organization, event.actor) == (org, mallory)


def test_someone_elses_invitation_is_a_404(client, agent, invitation):
    client.force_login(agent)
    assert client.post(f"/invitations/{invitation.pk}/accept/").status_code == 404
    assert client.post(f"/invitations/{invitation.pk}/decline/").status_code == 404
    assert Invitation.objects.pending().filter(pk=invitation.pk).exists()


def test_accepting_needs_a_post(client, mallory, invitation):
    client.force_login(mallory)
    assert client.get(f"/invitations/{invitation.pk}/accept/").status_code == 405
    assert Invitation.objects.pending().filter(pk=invitation.pk).exists()


def test_declining_removes_the_invitation(client, mallory, invitation):
    client.force_login(mallory)
    response = client.post(f"/invitations/{invitation.pk}/decline/")
    assert response.status_code == 302
    assert not Invitation.objects.exists()
    assert "No pending invitations" in client.get("/invitations/").content.decode()
