"""Rules every credential kind shares: names, scopes, owners, grace periods.

Each check returns the cleaned value or raises `Refused` naming the field, so
the API answers 400 with field errors and a portal form shows the message
beside the field.
"""

import datetime

from accounts.errors import Refused
from accounts.models import Membership, Organization

from . import scopes as catalog

NAME_MAX_LENGTH = 100
GRACE_PERIODS = {
    "none": datetime.timedelta(0),
    "1h": datetime.timedelta(hours=1),
    "24h": datetime.timedelta(hours=24),
    "7d": datetime.timedelta(days=7),
}


def clean_name(name, *, what="token", why="so you can tell it apart later"):
    name = (name or "").strip()
    if not name:
        raise Refused("name_required", f"Give the {what} a name, {why}.", "name")
    if len(name) > NAME_MAX_LENGTH:
        raise Refused(
            "name_too_long", f"A {what} name has at most {NAME_MAX_LENGTH} characters.", "name"
        )
    return name


def grace_period(grace):
    """How long a rotated secret keeps working: one of GRACE_PERIODS."""
    if grace not in GRACE_PERIODS:
        raise Refused(
            "invalid_grace_period", "The grace period is one of: none, 1h, 24h, 7d.", "grace_period"
        )
    return GRACE_PERIODS[grace]


def clean_scopes(requested, *, allowed, owner_allowed=None, owner_label=""):
    """Known scopes only (role names expanded), none beyond `allowed` (the issuer's) nor
    `owner_allowed` (the owner's, when someone else owns the credential), in catalog order."""
    requested = [s.strip() for s in requested or [] if isinstance(s, str) and s.strip()]
    if not requested:
        raise Refused("scopes_required", "Pick at least one scope.", "scopes")
    unknown = [s for s in requested if not catalog.is_known(s)]
    if unknown:
        raise Refused("unknown_scope", f"Unknown scope(s): {', '.join(unknown)}.", "scopes")
    fine = catalog.expand(" ".join(requested))
    beyond = catalog.ordered(fine - allowed)
    if beyond:
        raise Refused(
            "scope_not_allowed",
            "You cannot grant scopes beyond your own role: " + ", ".join(beyond) + ".",
            "scopes",
        )
    beyond_owner = catalog.ordered(fine - owner_allowed) if owner_allowed is not None else []
    if beyond_owner:
        raise Refused(
            "scope_not_allowed",
            f"The owner ({owner_label}) cannot hold these scopes: " + ", ".join(beyond_owner) + ".",
            "scopes",
        )
    return catalog.ordered(fine)


def credential_scopes(requested, *, issuer, owner, bound_by=None):
    """The scopes a new credential may carry: within the issuer's role, the owner's role, and
    (`bound_by`) the scopes of the credential making the call: a token never mints a stronger one."""
    allowed = catalog.allowed_for(issuer.role, issuer.has_developer_access)
    if bound_by is not None:
        allowed &= frozenset(bound_by)
    return clean_scopes(
        requested,
        allowed=allowed,
        owner_allowed=catalog.allowed_for(owner.role, owner.has_developer_access),
        owner_label=f"{owner.user.email}, {owner.role}",
    )


def resolve_owner(issuer, owner):
    """Who owns a new credential: the issuer, or a service account of the same organization an admin picked."""
    if owner is None or owner.pk == issuer.pk:
        return issuer
    if owner.organization_id != issuer.organization_id:
        raise Refused("owner_not_found", "No such service account in this organization.", "owner")
    if not issuer.is_admin:
        raise Refused(
            "owner_not_allowed", "Only admins may issue tokens owned by a service account.", "owner"
        )
    if not owner.user.is_service_account:
        raise Refused(
            "owner_not_service_account",
            "A token is owned by its creator or by a service account.",
            "owner",
        )
    return owner


def is_group_owner(membership):
    """Account reach is issued only by an owner of the organization's group."""
    group = membership.organization.group
    return group is not None and group.owners.filter(pk=membership.user_id).exists()


def lock_for_counting(*, organization=None, membership=None):
    """Serialize the writes that count rows before adding one (live keys per organization,
    live tokens per member), so parallel requests cannot both slip under a limit.

    One lock order for the whole project: the organization row, then the membership row.
    The locks are FOR NO KEY UPDATE: inserting a row that references a locked one (a token,
    a key, an audit event) takes FOR KEY SHARE, which these locks do not block, so a writer
    never waits on another writer's foreign-key check. (With plain FOR UPDATE, a personal
    token issued for a service account and an API key acting as it deadlocked.)
    """
    # order_by("pk"): Meta.ordering would join (and so lock) the organization and user rows too.
    if organization is not None:
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).order_by(
            "pk"
        ).first()
    if membership is not None:
        Membership.objects.select_for_update(no_key=True, of=("self",)).filter(
            pk=membership.pk
        ).order_by("pk").first()
