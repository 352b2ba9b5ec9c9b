"""/organizations and /organization-groups: a group belongs to its owners; every change is audited."""

import pytest

from accounts.models import Organization, OrganizationGroup
from tests.factories import bearer, issue, make_member
from tokens.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def labs_admin(labs):
    """The Acme Labs admin: in Acme Group, but not one of its owners."""
    return make_member(labs.org, "admin@labs.acme.test", "admin", developer_access=True)


def test_a_same_group_admin_who_is_not_an_owner_cannot_rename_the_group(
    api, labs_admin, group, org
):
    _t, secret = issue(labs_admin, scopes=["admin"])
    response = api.patch(
        f"/api/v1/organization-groups/{group.pk}", {"name": "Mine"}, format="json", **bearer(secret)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_group_owner"
    group.refresh_from_db()
    assert group.name == "Acme Group"


def test_a_same_group_admin_who_is_not_an_owner_cannot_delete_the_group(
    api, labs_admin, group, org
):
    _t, secret = issue(labs_admin, scopes=["admin"])
    response = api.delete(f"/api/v1/organization-groups/{group.pk}", **bearer(secret))
    assert response.status_code == 403
    assert response.json()["code"] == "not_group_owner"
    org.refresh_from_db()
    assert org.group_id == group.pk
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.GROUP_DELETED).exists()


def test_a_same_group_member_may_still_read_the_group(api, labs_admin, group):
    _t, secret = issue(labs_admin, scopes=["admin"])
    assert api.get(f"/api/v1/organization-groups/{group.pk}", **bearer(secret)).status_code == 200


def test_an_outsider_gets_404_for_the_group(api, mallory, group):
    _t, secret = issue(mallory, scopes=["admin"])
    response = api.delete(f"/api/v1/organization-groups/{group.pk}", **bearer(secret))
    assert response.status_code == 404
    assert OrganizationGroup.objects.filter(pk=group.pk).exists()


def test_deleting_a_group_is_audited_in_each_of_its_organizations(api, alice, group, org, labs):
    _t, secret = issue(alice, scopes=["admin"])
    assert (
        api.delete(f"/api/v1/organization-groups/{group.pk}", **bearer(secret)).status_code == 204
    )
    events = AuditEvent.objects.filter(action=AuditEvent.Action.GROUP_DELETED)
    assert {e.organization for e in events} == {org, labs.org}
    assert all(
        e.actor == alice and "acme-group" in e.detail and e.credential_kind == "group"
        for e in events
    )


def test_renaming_a_group_is_audited(api, alice, group, org):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/organization-groups/{group.pk}",
        {"name": "Acme Holding"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.GROUP_CHANGED)
    assert (event.organization, event.actor) == (org, alice)


def test_renaming_an_organization_is_audited(api, alice, org):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/organizations/{org.public_id}",
        {"name": "Acme Inc"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 200
    assert Organization.objects.get(pk=org.pk).name == "Acme Inc"
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORGANIZATION_CHANGED)
    assert (event.organization, event.actor, event.detail) == (
        org,
        alice,
        "changed name of organization acme",
    )


def test_creating_an_organization_is_audited_in_it(api, alice):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.post(
        "/api/v1/organizations", {"name": "New", "slug": "new-org"}, format="json", **bearer(secret)
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORGANIZATION_CHANGED)
    assert event.organization.slug == "new-org"


def test_a_non_owner_is_refused_before_the_body_is_validated(api, labs_admin, group, org):
    _t, secret = issue(labs_admin, scopes=["admin"])
    response = api.patch(
        f"/api/v1/organization-groups/{group.pk}",
        {"slug": "not a slug!"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_group_owner"
