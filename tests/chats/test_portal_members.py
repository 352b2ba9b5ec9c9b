"""Admins manage members on the Members page: invite, change role, grant or remove developer
access, remove; through accounts' services and audited, like the users API."""

import pytest
from django.urls import reverse

from accounts.models import Invitation, Membership, Role
from tests.factories import login, membership
from tokens.models import AuditEvent

pytestmark = pytest.mark.django_db


def url(name, org, *args):
    return reverse(name, args=[org.public_id, *args])


def test_admin_sees_every_member_with_actions(client, alice, dev, agent, org):
    response = login(client, alice).get(url("admin_members", org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "agent@acme.test" in html and "dev@acme.test" in html
    assert url("member_role", org, membership(agent).pk) in html
    assert url("member_remove", org, membership(agent).pk) in html
    assert 'action="' + url("member_invite", org) + '"' in html


def test_admin_invites_a_person_and_it_is_audited(client, alice, org):
    response = login(client, alice).post(
        url("member_invite", org),
        {"email": "new@acme.test", "role": "agent", "developer_access": "on"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.pending().get(email="new@acme.test")
    assert (invitation.role, invitation.developer_access) == ("agent", True)
    assert AuditEvent.objects.filter(organization=org, action=AuditEvent.Action.INVITED).exists()
    assert "new@acme.test" in client.get(url("admin_members", org)).content.decode()


def test_inviting_a_member_again_shows_the_error_in_the_form(client, alice, agent, org):
    response = login(client, alice).post(
        url("member_invite", org), {"email": "agent@acme.test", "role": "agent"}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def test_an_invalid_email_is_shown_in_place(client, alice, org):
    response = login(client, alice).post(
        url("member_invite", org), {"email": "not-an-email", "role": "agent"}
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_admin_changes_a_role_and_it_is_audited(client, alice, agent, org):
    response = login(client, alice).post(
        url("member_role", org, membership(agent).pk), {"role": "bot"}
    )
    assert response.status_code == 302
    assert membership(agent).role == Role.BOT
    event = AuditEvent.objects.get(organization=org, action=AuditEvent.Action.MEMBER_CHANGED)
    assert "agent@acme.test" in event.detail and "'bot'" in event.detail


def test_an_admin_demotes_another_admin(client, alice, dev, org):
    Membership.objects.filter(user=dev).update(role=Role.ADMIN)
    login(client, alice).post(url("member_role", org, membership(dev).pk), {"role": "agent"})
    assert membership(dev).role == Role.AGENT


def test_the_last_admin_cannot_be_demoted_and_is_told_why(client, alice, org):
    response = login(client, alice).post(
        url("member_role", org, membership(alice).pk), {"role": "agent"}, follow=True
    )
    assert membership(alice).role == Role.ADMIN
    assert "at least one admin" in response.content.decode()


def test_admin_grants_and_removes_developer_access(client, alice, agent, org):
    login(client, alice)
    client.post(
        url("member_developer_access", org, membership(agent).pk), {"developer_access": "on"}
    )
    assert membership(agent).developer_access is True
    client.post(url("member_developer_access", org, membership(agent).pk), {})
    assert membership(agent).developer_access is False
    details = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_CHANGED).values_list(
            "detail", flat=True
        )
    )
    assert any("granted" in d for d in details) and any("removed" in d for d in details)


def test_removing_asks_first_then_removes_and_audits(client, alice, agent, org):
    login(client, alice)
    confirm = client.get(url("member_remove", org, membership(agent).pk))
    assert confirm.status_code == 200
    assert "stops working" in confirm.content.decode()
    assert Membership.objects.filter(user=agent).exists()
    response = client.post(url("member_remove", org, membership(agent).pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=agent).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_REMOVED).exists()


def test_admin_cannot_remove_themself(client, alice, org):
    login(client, alice).post(url("member_remove", org, membership(alice).pk))
    assert Membership.objects.filter(user=alice).exists()


def test_a_developer_cannot_manage_members(client, dev, agent, org):
    login(client, dev)
    assert (
        client.post(url("member_role", org, membership(agent).pk), {"role": "bot"}).status_code
        == 403
    )
    assert (
        client.post(
            url("member_invite", org), {"email": "x@acme.test", "role": "agent"}
        ).status_code
        == 403
    )
    assert membership(agent).role == Role.AGENT


def test_another_organizations_member_is_404(client, alice, mallory, org):
    login(client, alice)
    outsider = Membership.objects.get(user=mallory)
    assert client.post(url("member_role", org, outsider.pk), {"role": "agent"}).status_code == 404
    assert client.get(url("member_remove", org, outsider.pk)).status_code == 404
    assert Membership.objects.get(user=mallory).role == Role.ADMIN


def test_an_unknown_role_is_refused(client, alice, agent, org):
    login(client, alice).post(url("member_role", org, membership(agent).pk), {"role": "owner"})
    assert membership(agent).role == Role.AGENT


def test_admin_withdraws_a_pending_invitation_and_it_is_audited(client, alice, org):
    login(client, alice).post(
        url("member_invite", org), {"email": "typo@acme.test", "role": "agent"}
    )
    invitation = Invitation.objects.pending().get(email="typo@acme.test")
    response = client.post(url("member_invitation_withdraw", org, invitation.pk))
    assert response.status_code == 302
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert AuditEvent.objects.filter(
        organization=org, detail="withdrew the invitation of typo@acme.test"
    ).exists()
    assert (
        "Invitation of typo@acme.test withdrawn."
        in client.get(url("admin_members", org)).content.decode()
    )


def test_another_organizations_invitation_cannot_be_withdrawn(client, alice, mallory, other_org):
    login(client, mallory).post(
        url("member_invite", other_org), {"email": "someone@globex.test", "role": "agent"}
    )
    theirs = Invitation.objects.pending().get(email="someone@globex.test")
    org = membership(alice).organization
    response = login(client, alice).post(url("member_invitation_withdraw", org, theirs.pk))
    assert response.status_code == 404
    assert Invitation.objects.filter(pk=theirs.pk).exists()
