"""/users: adding a person is an invitation that reveals nothing about their account;
a person's name is theirs; every membership change is audited."""

import pytest

from accounts.models import Invitation, Membership, User
from tests.factories import bearer, issue
from tokens.models import AuditEvent

pytestmark = pytest.mark.django_db


def _invite(api, secret, email, **extra):
    return api.post(
        "/api/v1/users", {"email": email, "name": "Probe", **extra}, format="json", **bearer(secret)
    )


def test_adding_an_existing_person_answers_exactly_like_adding_a_new_email(
    api, alice, org, mallory
):
    _t, secret = issue(alice, scopes=["admin"])
    existing = _invite(api, secret, mallory.email)
    new = _invite(api, secret, "nobody@globex.test")
    assert existing.status_code == new.status_code == 202
    assert set(existing.json()) == set(new.json())
    assert {k: v for k, v in existing.json().items() if k != "email"} == {
        k: v for k, v in new.json().items() if k != "email"
    }
    assert existing.json()["status"] == "invited"


def test_adding_a_person_of_another_org_neither_enrolls_nor_names_them(api, alice, org, mallory):
    _t, secret = issue(alice, scopes=["admin"])
    response = _invite(api, secret, mallory.email)
    assert response.status_code == 202
    assert not Membership.objects.filter(user=mallory, organization=org).exists()
    mallory.refresh_from_db()
    assert mallory.name == ""
    assert "mallory" not in response.content.decode().replace(mallory.email, "")
    listed = api.get("/api/v1/users", **bearer(secret)).json()["results"]
    assert mallory.pk not in {u["id"] for u in listed}


def test_a_new_email_is_not_a_member_until_it_accepts_either(api, alice, org):
    _t, secret = issue(alice, scopes=["admin"])
    _invite(api, secret, "new@acme.test")
    assert User.objects.filter(email="new@acme.test").exists()
    assert not Membership.objects.filter(user__email="new@acme.test").exists()
    assert Invitation.objects.pending().filter(organization=org, email="new@acme.test").exists()


def test_inviting_is_audited(api, alice, org):
    _t, secret = issue(alice, scopes=["admin"])
    _invite(api, secret, "new@acme.test", role="bot")
    event = AuditEvent.objects.get(action=AuditEvent.Action.INVITED)
    assert (event.organization, event.actor) == (org, alice)
    assert "new@acme.test" in event.detail
    assert event.credential_kind == "member"


def test_nobody_outside_a_persons_organizations_renames_them(api, alice, agent, other_org):
    Membership.objects.create(user=agent, organization=other_org, role="agent")
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/users/{agent.pk}", {"name": "Renamed"}, format="json", **bearer(secret)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "name_not_allowed"
    agent.refresh_from_db()
    assert agent.name == ""


def test_an_admin_of_a_persons_only_organization_renames_them_and_it_is_audited(
    api, alice, agent, org
):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/users/{agent.pk}",
        {"name": "Agent Smith", "role": "bot"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.name == "Agent Smith"
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_CHANGED)
    assert (event.organization, event.actor) == (org, alice)
    assert "role 'agent' -> 'bot'" in event.detail


def test_removing_a_member_is_audited(api, alice, agent, org):
    _t, secret = issue(alice, scopes=["admin"])
    assert api.delete(f"/api/v1/users/{agent.pk}", **bearer(secret)).status_code == 204
    assert not Membership.objects.filter(user=agent).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_REMOVED)
    assert agent.email in event.detail


def test_removing_oneself_is_refused(api, alice):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.delete(f"/api/v1/users/{alice.pk}", **bearer(secret))
    assert response.status_code == 400
    assert response.json()["code"] == "cannot_remove_self"
