"""Writes to organizations, groups and memberships: keyword-only functions, each atomic.

Callers above (chats' API, tokens) audit what these return: accounts imports
nothing of ours, so it cannot write the audit log itself.
"""

from django.db import transaction

from .errors import Refused
from .models import Membership, Organization, OrganizationGroup, Role, User


@transaction.atomic
def create_organization(*, name, slug, by, group=None):
    """A new organization, `by` its first admin."""
    if Organization.objects.filter(slug=slug).exists():
        raise Refused("slug_taken", "An organization with this slug exists already.", "slug")
    organization = Organization.objects.create(name=name, slug=slug, group=group)
    Membership.objects.create(user=by, organization=organization, role=Role.ADMIN, developer_access=True)
    return organization


@transaction.atomic
def create_organization_group(*, name, slug, by):
    """A new organization group, owned by `by`."""
    if OrganizationGroup.objects.filter(slug=slug).exists():
        raise Refused("slug_taken", "An organization group with this slug exists already.", "slug")
    group = OrganizationGroup.objects.create(name=name, slug=slug)
    group.owners.add(by)
    return group


def _check_role(role, by_role):
    if Role.rank(role) > Role.rank(by_role):
        raise Refused("role_not_allowed", "You cannot give a role above your own.", "role")


@transaction.atomic
def add_member(*, organization, email, role, by_role, name=""):
    """Add a member (creating the account when new); nobody grants a role above their own."""
    _check_role(role, by_role)
    user = User.objects.filter(email__iexact=email).first() or User.objects.create_user(email, None, name=name)
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created:
        raise Refused("already_member", "This user is already a member of the organization.", "email")
    return membership


@transaction.atomic
def update_member(*, membership, by_role, name=None, role=None):
    """Change a member's name and/or role; nobody grants a role above their own."""
    if role is not None:
        _check_role(role, by_role)
    if name is not None:
        membership.user.name = name
        membership.user.save(update_fields=["name"])
    if role is not None:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership, by):
    """Remove a member from one organization; the account stays. Nobody removes themself."""
    if membership.user_id == by.pk:
        raise Refused("cannot_remove_self", "You cannot remove yourself; ask another admin.")
    membership.delete()


@transaction.atomic
def organization_account(organization):
    """The organization's own admin-level service account (created on first use): it owns the
    organization's imported legacy token and the API keys issued for the organization itself."""
    email = f"api-client@{organization.slug}.keyward.invalid"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, None, name=f"{organization.name} API Client", is_service_account=True
    )
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Role.ADMIN}
    )
    return membership
