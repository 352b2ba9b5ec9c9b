"""Writes to organizations, groups, memberships and invitations: keyword-only functions, each atomic.

Each write announces what it changed on `changes` (lib.news), inside its transaction:
accounts imports nothing of ours, so the floors above listen (AppConfig.ready). tokens
audits every change and opens the offboarding review when a member's access narrows;
chats announces that narrowing to webhooks. No caller has to remember to audit.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from lib.news import Channel

from .errors import Refused
from .models import Invitation, Membership, Organization, OrganizationGroup, Role, User

changes = Channel("accounts.changes")


@dataclass(frozen=True)
class AccountChange:
    """One change, as the audit log records it: `action` and `subject` are the log's names
    (tokens.models.AuditEvent.Action, CredentialKind), `organizations` whose logs keep it."""

    action: str  # invited, member_added, member_changed, member_removed, org_changed, group_…
    subject: str  # member, organization or group
    organizations: tuple
    by: User | None
    detail: str
    ip: str | None = None
    member: "MemberChange | None" = None  # what a member may do, before and after


def _announce(action, subject, organizations, *, by, detail, ip=None, member=None):
    changes.send(AccountChange(action, subject, tuple(organizations), by, detail, ip, member))


@transaction.atomic
def create_organization(*, name, slug, by, group=None, ip=None):
    """A new organization, `by` its first admin."""
    if Organization.objects.filter(slug=slug).exists():
        raise Refused("slug_taken", "An organization with this slug exists already.", "slug")
    organization = Organization.objects.create(name=name, slug=slug, group=group)
    Membership.objects.create(
        user=by, organization=organization, role=Role.ADMIN, developer_access=True
    )
    detail = f"created organization {organization.slug}"
    _announce("org_changed", "organization", [organization], by=by, detail=detail, ip=ip)
    return organization


@transaction.atomic
def update_organization(*, organization, by=None, ip=None, **fields):
    """Rename an organization (`name`, `slug`); returns the fields that changed."""
    changed = _apply(organization, fields)
    if changed:
        detail = f"changed {', '.join(changed)} of organization {organization.slug}"
        _announce("org_changed", "organization", [organization], by=by, detail=detail, ip=ip)
    return changed


@transaction.atomic
def delete_organization(*, organization, by=None, ip=None, witnesses=()):
    """Delete an organization; its own audit log goes with it, so the `witnesses` (the
    caller's organization) keep the record."""
    slug, pk = organization.slug, organization.pk
    organization.delete()
    survivors = [o for o in witnesses if o.pk != pk]
    detail = f"deleted organization {slug}"
    _announce("org_changed", "organization", survivors, by=by, detail=detail, ip=ip)


@transaction.atomic
def create_organization_group(*, name, slug, by, ip=None, witnesses=()):
    """A new organization group, owned by `by`; the `witnesses` (the caller's organization)
    record it, since the group has no organization yet."""
    if OrganizationGroup.objects.filter(slug=slug).exists():
        raise Refused("slug_taken", "An organization group with this slug exists already.", "slug")
    group = OrganizationGroup.objects.create(name=name, slug=slug)
    group.owners.add(by)
    detail = f"created organization group {group.slug}"
    _announce("group_changed", "group", witnesses, by=by, detail=detail, ip=ip)
    return group


def require_group_owner(*, group, by):
    """Refuse (403 not_group_owner) unless `by` owns the group."""
    if not group.owners.filter(pk=by.pk).exists():
        raise Refused(
            "not_group_owner", "Only an owner of the organization group may change it.", status=403
        )


@transaction.atomic
def update_organization_group(*, group, by, ip=None, **fields):
    """Rename a group (`name`, `slug`): its owners only. Returns the fields that changed."""
    require_group_owner(group=group, by=by)
    changed = _apply(group, fields)
    if changed:
        detail = f"changed {', '.join(changed)} of organization group {group.slug}"
        organizations = list(group.organizations.all())
        _announce("group_changed", "group", organizations, by=by, detail=detail, ip=ip)
    return changed


@transaction.atomic
def delete_organization_group(*, group, by, ip=None):
    """Delete a group (its organizations stay, ungrouped, and each one's log says so): its
    owners only."""
    require_group_owner(group=group, by=by)
    organizations, slug = list(group.organizations.all()), group.slug
    group.delete()
    detail = f"deleted organization group {slug}"
    _announce("group_deleted", "group", organizations, by=by, detail=detail, ip=ip)


def _apply(instance, fields):
    changed = [field for field, value in fields.items() if getattr(instance, field) != value]
    for field in changed:
        setattr(instance, field, fields[field])
    if changed:
        instance.save(update_fields=changed)
    return changed


def _check_role(role, by_role):
    if Role.rank(role) > Role.rank(by_role):
        raise Refused("role_not_allowed", "You cannot give a role above your own.", "role")


@transaction.atomic
def invite_member(
    *, organization, email, role, by, by_role, developer_access=False, name="", ip=None
):
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
    detail = f"invited {invitation.email} as {invitation.role}"
    _announce("invited", "member", [organization], by=by, detail=detail, ip=ip)
    return invitation


@transaction.atomic
def accept_invitation(*, invitation, user, ip=None):
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
    detail = f"{user.email} accepted an invitation as {membership.role}"
    _announce("member_added", "member", [membership.organization], by=user, detail=detail, ip=ip)
    return membership


@transaction.atomic
def withdraw_invitation(*, invitation, by, ip=None):
    """An admin takes a pending invitation back before it is accepted; it is deleted, and its
    link then answers as for any used invitation."""
    deleted, _ = Invitation.objects.pending().filter(pk=invitation.pk).delete()
    if not deleted:
        raise Refused(
            "no_invitation", "This invitation does not exist or was used already.", status=404
        )
    detail = f"withdrew the invitation of {invitation.email}"
    _announce("member_changed", "member", [invitation.organization], by=by, detail=detail, ip=ip)


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
def update_member(*, membership, by, by_role, name=None, role=None, developer_access=None, ip=None):
    """Change a member's role in this organization, their developer access and/or their name.

    Nobody grants a role above their own, and the last admin stays an admin. A name
    belongs to the person: only they, or an admin of every organization they belong
    to, may change it. Admins always have developer access, whatever the flag says.
    """
    if role is not None:
        _check_role(role, by_role)
    said = _rename_member(membership, by, name)
    if role is not None or developer_access is not None:
        _lock_for_member_change(membership)
        before = Access.of(membership)
        said += _change_access(membership, role, developer_access)
        after = Access.of(membership)
        member = MemberChange(membership, by, before, after) if after != before else None
    else:
        member = None
    if said:
        detail = f"{membership.user.email}: {', '.join(said)}"
        organization = membership.organization
        _announce(
            "member_changed", "member", [organization], by=by, detail=detail, ip=ip, member=member
        )
    return membership


def _rename_member(membership, by, name):
    user = membership.user
    if name is None or name == user.name:
        return []
    if user.pk != by.pk and not _administers_every_organization_of(by, user.pk):
        raise Refused(
            "name_not_allowed",
            "Only this person, or an admin of every organization they belong to, "
            "may change their name.",
            "name",
            status=403,
        )
    said = [f"name {user.name!r} -> {name!r}"]
    user.name = name
    user.save(update_fields=["name"])
    return said


def _change_access(membership, role, developer_access):
    """Apply a new role and/or developer access (locked); what changed, as the log says it."""
    said, changed = [], []
    if role is not None and role != membership.role:
        if membership.role == Role.ADMIN:
            _require_another_admin(membership)
        said.append(f"role {membership.role!r} -> {role!r}")
        membership.role = role
        changed.append("role")
    if developer_access is not None and developer_access != membership.developer_access:
        said.append(f"developer access {'granted' if developer_access else 'removed'}")
        membership.developer_access = developer_access
        changed.append("developer_access")
    if changed:
        membership.save(update_fields=changed)
    return said


@transaction.atomic
def remove_member(*, membership, by, ip=None):
    """Remove a member from one organization; the account stays. Nobody removes themself,
    and the last admin stays."""
    if membership.user_id == by.pk:
        raise Refused("cannot_remove_self", "You cannot remove yourself; ask another admin.")
    _lock_for_member_change(membership)
    if membership.role == Role.ADMIN:
        _require_another_admin(membership)
    member = MemberChange(membership=membership, by=by, before=Access.of(membership), after=None)
    detail = f"removed {membership.user.email} ({membership.role})"
    organization = membership.organization
    _announce(
        "member_removed", "member", [organization], by=by, detail=detail, ip=ip, member=member
    )
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
