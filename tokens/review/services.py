"""Open review items when a member's access narrows, and carry out an admin's decision.

`on_account_change` listens to `accounts.services.changes` (TokensConfig.ready): it runs inside
the removal or demotion, before a removed membership is deleted, so it still sees which
credentials were the member's. Decisions go through each kind's own services, named in its
description (tokens.kinds): this module may not import a kind.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.errors import Refused
from accounts.models import Membership, Role
from lib.tasks import enqueue_on_commit, task

from .. import kinds
from .. import scopes as catalog
from ..models import ReviewItem

log = logging.getLogger(__name__)


def actions_for(kind):
    """The kind's own revoke and re-issue (tokens.kinds): this module may not import a kind."""
    found = kinds.get(kind)
    if found is None or found.revoke is None:
        raise ImproperlyConfigured(
            f"The {kind} kind has no review actions (tokens/<kind>/kind.py)."
        )
    return found


def can_reissue(item):
    found = kinds.get(item.credential_kind)
    return found is not None and found.reissue is not None


# Which credentials are a member's


def credentials_of(membership):
    """Live credentials the member owns or created in this organization, each with its scope
    string ("" where a kind has none)."""
    mine = Q(membership=membership) | Q(created_by_id=membership.user_id)
    found = []
    for kind in kinds.where("held_by"):
        held = kind.held_by(membership, mine)
        found += list(held.filter(organization_id=membership.organization_id))
    return found


def needs_review(credential, change):
    if change.summary in {"removed", "developer_access_lost"}:
        return True
    scope = getattr(credential, "scope", "")
    allowed = catalog.allowed_for(change.after.role, change.after.developer_access)
    return bool(scope) and not catalog.expand(scope) <= allowed


def on_account_change(account_change):
    if account_change.member is not None:
        open_for_change(account_change.member)


def open_for_change(change):
    """A review item for each credential the narrowing leaves behind; admins are told."""
    if not change.narrows:
        return []
    reason = change.summary
    detail = {
        "removed": f"removed ({change.before.role})",
        "developer_access_lost": "developer access withdrawn",
        "demoted": f"role {change.before.role} -> {change.after.role if change.after else ''}",
    }[reason]
    items = []
    for credential in credentials_of(change.membership):
        if not needs_review(credential, change):
            continue
        fields = {
            "organization_id": change.membership.organization_id,
            "member": change.user,
            "member_email": change.user.email,
            "reason": reason,
            "detail": detail,
            "credential_name": (getattr(credential, "name", "") or "")[:100],
            "credential_last4": getattr(credential, "last4", "") or "",
        }
        item, _ = ReviewItem.objects.open().update_or_create(
            credential_kind=credential.credential_kind, credential_id=credential.pk, defaults=fields
        )
        items.append(item)
    if items:
        enqueue_on_commit(notify_admins, change.membership.organization_id, change.user.email)
    return items


# Decisions


def _open_item(item):
    item = ReviewItem.objects.select_for_update().filter(pk=item.pk).first()
    if item is None or item.decided_at is not None:
        raise Refused("review_decided", "This credential was decided on already.", status=409)
    return item


def _credential(item):
    return (
        kinds.get(item.credential_kind)
        .credentials()
        .filter(pk=item.credential_id, organization_id=item.organization_id)
        .first()
    )


def _decide(item, decision, by, replacement_id=None):
    item.decision, item.decided_at, item.decided_by = decision, timezone.now(), by
    item.replacement_id = replacement_id
    item.save(update_fields=["decision", "decided_at", "decided_by", "replacement_id"])
    return item


@transaction.atomic
def revoke(*, item, by, ip=None):
    """Revoke the credential through its kind (a credential already gone is simply decided)."""
    item = _open_item(item)
    credential = _credential(item)
    if credential is not None:
        actions_for(item.credential_kind).revoke(credential, by=by, ip=ip)
    return _decide(item, ReviewItem.Decision.REVOKED, by)


@transaction.atomic
def keep(*, item, by):
    """Keep it: its effective scopes are already cut to what the member may do now; this
    acknowledges that someone looked."""
    return _decide(_open_item(item), ReviewItem.Decision.KEPT, by)


@transaction.atomic
def reissue(*, item, issuer, owner, ip=None):
    """A new credential with the same scopes owned by the service account `owner` (a membership
    of the same organization); the old one is revoked. Returns the Issued (secret shown once)."""
    item = _open_item(item)
    actions = actions_for(item.credential_kind)
    if actions.reissue is None:
        raise Refused(
            "reissue_not_possible",
            "Only tokens and API keys can be re-issued to a service account.",
        )
    if (
        owner is None
        or owner.organization_id != item.organization_id
        or not owner.user.is_service_account
    ):
        raise Refused(
            "owner_not_service_account", "Pick a service account of this organization.", "owner"
        )
    credential = _credential(item)
    if credential is None:
        raise Refused(
            "credential_gone", "This credential no longer exists; revoke or keep the item instead."
        )
    issued = actions.reissue(credential, issuer=issuer, owner=owner, ip=ip)
    actions.revoke(credential, by=issuer.user, ip=ip)
    _decide(item, ReviewItem.Decision.REISSUED, issuer.user, replacement_id=issued.credential.pk)
    return issued


def service_accounts(organization):
    return (
        Membership.objects.filter(organization=organization, user__is_service_account=True)
        .select_related("user", "organization")
        .order_by("user__email")
    )


# Notices


def summary(organization):
    """[(member email, open items count)], most first: "3 credentials of dev@acme.test need a decision"."""
    counts = {}
    for email in (
        ReviewItem.objects.open()
        .filter(organization=organization)
        .values_list("member_email", flat=True)
    ):
        counts[email] = counts.get(email, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


@task()
def notify_admins(organization_id, member_email):
    """Email the organization's admins (people, not service accounts) what waits for them."""
    admins = Membership.objects.filter(
        organization_id=organization_id,
        role=Role.ADMIN,
        user__is_service_account=False,
        user__is_active=True,
    ).select_related("user", "organization")
    admins = list(admins)
    if not admins:
        return 0
    organization = admins[0].organization
    count = (
        ReviewItem.objects.open()
        .filter(organization_id=organization_id, member_email=member_email)
        .count()
    )
    if not count:
        return 0
    link = settings.PORTAL_BASE_URL + reverse(
        "credential_review", kwargs={"org_id": organization.public_id}
    )
    noun, verb = ("credential", "needs") if count == 1 else ("credentials", "need")
    subject = f"[Keyward] {count} {noun} of {member_email} {verb} a decision"
    body = (
        f"{count} {noun} of {member_email} in {organization.name} {verb} a decision: the member left or "
        f"lost access. Revoke, keep, or re-issue each to a service account:\n\n{link}\n"
    )
    send_mail(subject, body, None, [m.user.email for m in admins])
    log.info(
        "review notice for %s sent to %s admins of organization %s",
        member_email,
        len(admins),
        organization_id,
    )
    return len(admins)
