"""Writes to organizations, groups, memberships and invitations: keyword-only functions, each atomic.

Callers above (chats' API and portal views, tokens) audit what these return:
accounts imports nothing of ours, so it cannot write the audit log itself. For the
same reason a change of what a member may do is told to the listeners the apps above
register (`on_member_change`): tokens opens the offboarding review, chats announces it.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .errors import Refused
from .models import Invitation, Membership, Organization, OrganizationGroup, Role, User


@transaction.atomic
def create_organization(*, name, slug, by, group=None):
    """A new organization, `by` its first admin."""
    if Organization.objects.filter(slug=slug).exists():
        raise Refused("slug_taken", "An organization with this slug exists already.", "slug")
    organization = Organization.objects.create(name=name, slug=slug, group=group)
    Membership.objects.create(
        user=by, organization=organization, role=Role.ADMIN, developer_access=True
    )
    return organization


@transaction.atomic
def update_organization(*, organization, **changes):
    """Rename an organization (`name`, `slug`); returns the fields that changed."""
    return _apply(organization, changes)


@transaction.atomic
def delete_organization(*, organization):
    organization.delete()


@transaction.atomic
def create_organization_group(*, name, slug, by):
    """A new organization group, owned by `by`."""
    if OrganizationGroup.objects.filter(slug=slug).exists():
        raise Refused("slug_taken", "An organization group with this slug exists already.", "slug")
    group = OrganizationGroup.objects.create(name=name, slug=slug)
    group.owners.add(by)
    return group


def require_group_owner(*, group, by):
    """Refuse (403 not_group_owner) unless `by` owns the group."""
    if not group.owners.filter(pk=by.pk).exists():
        raise Refused(
            "not_group_owner", "Only an owner of the organization group may change it.", status=403
        )


@transaction.atomic
def update_organization_group(*, group, by, **changes):
    """Rename a group (`name`, `slug`): its owners only. Returns the fields that changed."""
    require_group_owner(group=group, by=by)
    return _apply(group, changes)


@transaction.atomic
def delete_organization_group(*, group, by):
    """Delete a group (its organizations stay, ungrouped): its owners only."""
    require_group_owner(group=group, by=by)
    group.delete()


def _apply(instance, changes):
    changed = [field for field, value in changes.items() if getattr(instance, field) != value]
    for field in changed:
        setattr(instance, field, changes[field])
    if changed:
        instance.save(update_fields=changed)
    return changed


def _check_role(role, by_role):
    if Role.rank(role) > Role.rank(by_role):
        raise Refused("role_not_allowed", "You cannot give a role above your own.", "role")


@transaction.atomic
def invite_member(*, organization, email, role, by, by_role, developer_access=False, name=""):
    """Invite `email` to the organization; the person joins when they accept (accept_invitation).

    The answer is the same whether or not the email has an account, so an inviter
    learns nothing about people outside their organization. A new email gets an
    account (no usable password) named `name`; an existing account is never changed.
    Inviting again refreshes the pending invitation.
    """
    _check_role(role, by_role)
    email = User.objects.normalize_email(email).lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Refused(
            "already_member", "This user is already a member of the organization.", "email"
        )
    if not User.objects.filter(email__iexact=email).exists():
        User.objects.create_user(email, None, name=name)
    invitation, _ = Invitation.objects.pending().update_or_create(
        organization=organization,
        email=email,
        defaults={
            "role": role,
            "developer_access": developer_access,
            "invited_by": by,
            "created_at": timezone.now(),
        },
    )
    return invitation


@transaction.atomic
def accept_invitation(*, invitation, user):
    """`user` joins the organization as invited; refused unless the invitation is theirs and pending."""
    invitation = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if (
        invitation is None
        or invitation.accepted_at
        or invitation.email.lower() != user.email.lower()
    ):
        raise Refused(
            "no_invitation", "This invitation does not exist or was used already.", status=404
        )
    membership = add_member(
        organization=invitation.organization,
        user=user,
        role=invitation.role,
        developer_access=invitation.developer_access,
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def withdraw_invitation(*, invitation, by):
    """An admin takes a pending invitation back before it is accepted; it is deleted, and its
    link then answers as for any used invitation."""
    deleted, _ = Invitation.objects.pending().filter(pk=invitation.pk).delete()
    if not deleted:
        raise Refused(
            "no_invitation", "This invitation does not exist or was used already.", status=404
        )


@transaction.atomic
def decline_invitation(*, invitation, user):
    """`user` turns the invitation down; it is deleted."""
    deleted, _ = (
        Invitation.objects.pending().filter(pk=invitation.pk, email__iexact=user.email).delete()
    )
    if not deleted:
        raise Refused(
            "no_invitation", "This invitation does not exist or was used already.", status=404
        )


@transaction.atomic
def add_member(*, organization, user, role, developer_access=False):
    """Make `user` a member at once: for people who consented (an accepted invitation) and seeding."""
    membership, created = Membership.objects.get_or_create(
        user=user,
        organization=organization,
        defaults={"role": role, "developer_access": developer_access},
    )
    if not created:
        raise Refused(
            "already_member", "This user is already a member of the organization.", "email"
        )
    return membership


@dataclass(frozen=True)
class Access:
    role: str
    developer_access: bool  # in effect: admins always have it

    @classmethod
    def of(cls, membership):
        return cls(membership.role, membership.has_developer_access)


@dataclass(frozen=True)
class MemberChange:
    """What a member may do before and after a change; `after` is None when they were removed.
    Listeners run inside the change's transaction, before a removed membership is deleted."""

    membership: Membership
    by: User | None
    before: Access
    after: Access | None

    @property
    def organization(self):
        return self.membership.organization

    @property
    def user(self):
        return self.membership.user

    @property
    def summary(self):
        if self.after is None:
            return "removed"
        if self.before.developer_access and not self.after.developer_access:
            return "developer_access_lost"
        if Role.rank(self.after.role) < Role.rank(self.before.role):
            return "demoted"
        return "access_widened" if self.after != self.before else "unchanged"

    @property
    def narrows(self):
        return self.summary in {"removed", "developer_access_lost", "demoted"}


_member_listeners = []


def on_member_change(listener):
    """Call `listener(change)` whenever a member is removed or their role or developer access changes."""
    if listener not in _member_listeners:
        _member_listeners.append(listener)
    return listener


def _tell(change):
    for listener in _member_listeners:
        listener(change)


def _administers_every_organization_of(by, user_id):
    administered = Membership.objects.filter(user=by, role=Role.ADMIN).values("organization_id")
    return (
        not Membership.objects.filter(user_id=user_id)
        .exclude(organization_id__in=administered)
        .exists()
    )


def _lock_for_member_change(membership):
    """Lock what deciding a member's role or removal reads, and read the member again.

    The project's one lock order: the organization row, then the membership row
    (tokens.rules.lock_for_counting takes the same). Every such decision in an organization
    queues on its row, so two admins demoting each other at once wait in turn instead of
    each locking the other's membership first (a deadlock), and the second judges the roles
    the first left, not the ones its page showed. FOR NO KEY UPDATE, as in tokens.rules, so
    rows that merely reference these (new tokens, audit events) are never held up.
    Refused (404) when the member was removed meanwhile.
    """
    # order_by("pk"): Meta.ordering would join (and so lock) the organization and user rows too.
    Organization.objects.select_for_update(no_key=True).filter(
        pk=membership.organization_id
    ).order_by("pk").first()
    current = (
        Membership.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=membership.pk)
        .order_by("pk")
        .values("role", "developer_access")
        .first()
    )
    if current is None:
        raise Refused("not_member", "This person is not a member of the organization.", status=404)
    membership.role = current["role"]
    membership.developer_access = current["developer_access"]


def _require_another_admin(membership):
    """Refuse to take the last admin away: someone must be able to manage the organization.
    Service accounts do not count, since nobody logs in as them. Called under
    `_lock_for_member_change`, which keeps every other admin's role still while it counts."""
    others = Membership.objects.filter(
        organization_id=membership.organization_id,
        role=Role.ADMIN,
        user__is_service_account=False,
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise Refused(
            "last_admin",
            "An organization needs at least one admin: make someone else admin first.",
            "role",
        )


@transaction.atomic
def update_member(*, membership, by, by_role, name=None, role=None, developer_access=None):
    """Change a member's role in this organization, their developer access and/or their name.

    Nobody grants a role above their own, and the last admin stays an admin. A name
    belongs to the person: only they, or an admin of every organization they belong
    to, may change it. Admins always have developer access, whatever the flag says.
    """
    if role is not None:
        _check_role(role, by_role)
    user = membership.user
    if name is not None and name != user.name:
        if user.pk != by.pk and not _administers_every_organization_of(by, user.pk):
            raise Refused(
                "name_not_allowed",
                "Only this person, or an admin of every organization they belong to, "
                "may change their name.",
                "name",
                status=403,
            )
        user.name = name
        user.save(update_fields=["name"])
    if role is None and developer_access is None:
        return membership
    _lock_for_member_change(membership)
    before = Access.of(membership)
    changed = []
    if role is not None and role != membership.role:
        if membership.role == Role.ADMIN:
            _require_another_admin(membership)
        membership.role = role
        changed.append("role")
    if developer_access is not None and developer_access != membership.developer_access:
        membership.developer_access = developer_access
        changed.append("developer_access")
    if changed:
        membership.save(update_fields=changed)
    if Access.of(membership) != before:
        _tell(
            MemberChange(membership=membership, by=by, before=before, after=Access.of(membership))
        )
    return membership


@transaction.atomic
def remove_member(*, membership, by):
    """Remove a member from one organization; the account stays. Nobody removes themself,
    and the last admin stays."""
    if membership.user_id == by.pk:
        raise Refused("cannot_remove_self", "You cannot remove yourself; ask another admin.")
    _lock_for_member_change(membership)
    if membership.role == Role.ADMIN:
        _require_another_admin(membership)
    _tell(MemberChange(membership=membership, by=by, before=Access.of(membership), after=None))
    membership.delete()


def organization_account_email(organization):
    return f"api-client@{organization.slug}.keyward.invalid"


def is_organization_account(membership):
    """Whether this membership is its organization's own service account (see below)."""
    return (
        membership.user.is_service_account
        and membership.user.email == organization_account_email(membership.organization)
    )


@transaction.atomic
def organization_account(organization):
    """The organization's own admin-level service account (created on first use): it owns the
    organization's imported legacy token and the API keys issued for the organization itself."""
    email = organization_account_email(organization)
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, None, name=f"{organization.name} API Client", is_service_account=True
    )
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Role.ADMIN}
    )
    return membership
