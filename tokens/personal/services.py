"""Every write to a personal token (and to the organization's token policy) goes through
here: one path per operation, so policy holds.

The writes (`issue_personal_token`, `rename_token`, `rotate_token`, `revoke_token`,
`set_token_policy`, `import_legacy_token`) are keyword-only, atomic, and record their
audit event; issuing and rotating return an `Issued` whose one-time secret nothing else
ever holds. `policy_of` and the `clean_*` checks only read.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import set_token_value

from accounts.errors import Refused
from accounts.models import Role
from accounts.services import organization_account

from .. import audit, secret_format
from .. import scopes as catalog
from ..models import REACH_RANK, AccessToken, AuditEvent, CredentialKind, Kind, Reach, TokenPolicy
from ..one_time import Issued, OneTimeSecret
from ..rules import (
    clean_name,
    credential_scopes,
    grace_period,
    is_group_owner,
    lock_for_counting,
    resolve_owner,
)
from ..usage import report

log = logging.getLogger(__name__)

EXPIRY_CHOICES_DAYS = (7, 30, 60, 90)


def policy_of(organization):
    return TokenPolicy.objects.filter(organization=organization).first() or TokenPolicy(
        organization=organization
    )


def clean_expiry(expires_at, *, policy, now):
    if expires_at is None:
        if policy.require_expiry:
            raise Refused(
                "expiry_required",
                "Your organization requires every token to have an expiry date.",
                "expires_at",
            )
        return None
    if expires_at <= now:
        raise Refused("expiry_in_past", "The expiry must be in the future.", "expires_at")
    if policy.max_lifetime_days and expires_at > now + datetime.timedelta(
        days=policy.max_lifetime_days
    ):
        raise Refused(
            "expiry_too_far",
            f"Your organization allows tokens to live at most {policy.max_lifetime_days} days.",
            "expires_at",
        )
    return expires_at


def clean_reach(reach, app_user_id, *, issuer):
    """app by default; account only for an owner of the organization's group; appUser names a contact."""
    reach = reach or Reach.APP
    if reach not in Reach.values:
        raise Refused("invalid_reach", "Reach is one of: appUser, app, account.", "reach")
    if reach == Reach.ACCOUNT and not is_group_owner(issuer):
        raise Refused(
            "reach_not_allowed", "Account reach is for owners of the organization's group.", "reach"
        )
    app_user_id = (app_user_id or "").strip()
    if reach == Reach.APP_USER and not app_user_id:
        raise Refused(
            "app_user_required", "An appUser token names the contact it acts for.", "app_user_id"
        )
    if reach != Reach.APP_USER and app_user_id:
        raise Refused("app_user_not_allowed", "Only appUser tokens name a contact.", "app_user_id")
    return reach, app_user_id


def _new_token(
    *, owner, name, scope_names, expires_at, created_by, ip, reach=Reach.APP, app_user_id=""
):
    raw = secret_format.generate(secret_format.PERSONAL_TOKEN)
    token = AccessToken(
        kind=Kind.PERSONAL,
        name=name,
        user=owner.user,
        membership=owner,
        organization=owner.organization,
        scope=" ".join(scope_names),
        expires=expires_at,
        created_by=created_by,
        created_ip=ip,
        last4=raw[-4:],
        reach=reach,
        app_user_id=app_user_id,
    )
    set_token_value(token, raw)  # keeps only the SHA-256 digest (DOT's hashed storage)
    token.save()
    return Issued(credential=token, secret=OneTimeSecret(raw))


@transaction.atomic
def issue_personal_token(
    *,
    issuer,
    name,
    scopes,
    expires_at=None,
    owner=None,
    ip=None,
    bound_by=None,
    reach=None,
    app_user_id="",
    bound_reach=None,
):
    """Issue a personal token; returns the row and its one-time secret.

    `issuer` is the caller's membership; `owner` a service account's membership
    when an admin issues for one; `bound_by` the scopes of the credential making
    the call, when it is a token (a token never mints a stronger one).
    """
    now = timezone.now()
    owner = resolve_owner(issuer, owner)
    name = clean_name(name)
    # Nobody grants beyond their own role, and a token never exceeds its owner's.
    scope_names = credential_scopes(scopes, issuer=issuer, owner=owner, bound_by=bound_by)
    policy = policy_of(issuer.organization)
    expires_at = clean_expiry(expires_at, policy=policy, now=now)
    reach, app_user_id = clean_reach(reach, app_user_id, issuer=issuer)
    if bound_reach is not None and REACH_RANK[reach] > REACH_RANK[bound_reach]:
        raise Refused(
            "reach_not_allowed", "A token cannot mint a token of wider reach than its own.", "reach"
        )

    # Parallel requests count the owner's live tokens one at a time.
    lock_for_counting(membership=owner)
    if policy.max_live_tokens_per_member is not None:
        live = AccessToken.objects.personal().live(now).filter(membership=owner).count()
        if live >= policy.max_live_tokens_per_member:
            raise Refused(
                "token_limit_reached",
                f"The organization allows {policy.max_live_tokens_per_member} live tokens per member; "
                "revoke one first.",
            )

    issued = _new_token(
        owner=owner,
        name=name,
        scope_names=scope_names,
        expires_at=expires_at,
        created_by=issuer.user,
        ip=ip,
        reach=reach,
        app_user_id=app_user_id,
    )
    audit.record(
        action=AuditEvent.Action.ISSUED, credential=issued.credential, actor=issuer.user, ip=ip
    )
    log.info(
        "personal token %s …%s issued by user %s",
        issued.credential.pk,
        issued.credential.last4,
        issuer.user_id,
    )
    return issued


@transaction.atomic
def rename_token(*, token, name, by, ip=None):
    name = clean_name(name)
    old = token.name
    if name == old:
        return token  # nothing changed, so nothing to audit
    token.name = name
    token.save(update_fields=["name", "updated"])
    audit.record(
        action=AuditEvent.Action.RENAMED, credential=token, actor=by, ip=ip, detail=f"from {old!r}"
    )
    return token


@transaction.atomic
def rotate_token(*, token, grace="none", by, ip=None, scopes=None):
    """A new secret with the same name, scopes, owner and expiry; the old one dies after `grace`.
    `scopes` (narrowing: a subset of what the token stands for) replaces its scopes."""
    grace_for = grace_period(grace)
    now = timezone.now()
    token = (
        AccessToken.objects.select_for_update(of=("self",))
        .select_related("membership__user", "organization")
        .get(pk=token.pk)
    )
    if token.revoked_at is not None:
        raise Refused(
            "token_revoked", "This token is revoked or already rotated; it cannot be rotated."
        )
    if token.is_expired():
        raise Refused("token_expired", "This token has expired; create a new one instead.")
    if token.membership is None:
        raise Refused(
            "owner_gone", "The token's owner is no longer a member; it cannot be rotated."
        )
    issued = _new_token(
        owner=token.membership,
        name=token.name,
        scope_names=list(scopes) if scopes is not None else token.scope.split(),
        expires_at=token.expires,
        created_by=by,
        ip=ip,
        reach=token.reach,
        app_user_id=token.app_user_id,
    )
    token.revoked_at = now + grace_for
    token.rotated_into = issued.credential
    token.save(update_fields=["revoked_at", "rotated_into", "updated"])
    # Secrets of earlier rotations still in their overlap now belong to the newest one too.
    AccessToken.objects.filter(rotated_into_id=token.pk).exclude(revoked_at__lte=now).update(
        rotated_into=issued.credential
    )
    audit.record(
        action=AuditEvent.Action.ROTATED,
        credential=token,
        actor=by,
        ip=ip,
        detail=f"replaced by token {issued.credential.pk}; old secret works for {grace}"
        + (f"; narrowed to {' '.join(scopes)}" if scopes is not None else ""),
    )
    log.info("personal token %s rotated into %s by user %s", token.pk, issued.credential.pk, by.pk)
    return issued


@transaction.atomic
def revoke_token(*, token, by, ip=None):
    """Revoke at once, with the previous secrets of its rotations still in their overlap."""
    now = timezone.now()
    if token.revoked_at is None or token.revoked_at > now:
        token.revoked_at = now
        token.save(update_fields=["revoked_at", "updated"])
    audit.record(action=AuditEvent.Action.REVOKED, credential=token, actor=by, ip=ip)
    _end_previous(
        token, now=now, by=by, ip=ip, detail="revoked with the credential it rotated into"
    )
    log.info("token %s …%s revoked by user %s", token.pk, token.last4, by.pk)
    return token


def _end_previous(token, *, now, by, ip, detail):
    """Stop the previous secrets of `token`'s rotations now, each audited (which also tells
    every process to forget them)."""
    previous = list(token.previous_secrets(now).select_for_update())
    for old in previous:
        old.revoked_at = now
        old.save(update_fields=["revoked_at", "updated"])
    if previous:
        audit.record_each(
            previous, action=AuditEvent.Action.REVOKED, actor=by, ip=ip, detail=detail
        )
    return previous


@transaction.atomic
def end_overlap(*, token, by, ip=None):
    """End a rotation's overlap now: the previous secret stops working, the current one stays."""
    ended = _end_previous(token, now=timezone.now(), by=by, ip=ip, detail="overlap ended early")
    if not ended:
        raise Refused("no_overlap", "This token has no previous secret that still works.")
    log.info("token %s: overlap ended by user %s", token.pk, by.pk)
    return ended


@transaction.atomic
def set_token_policy(
    *,
    organization,
    by,
    require_expiry,
    max_lifetime_days,
    max_live_tokens_per_member,
    require_jwt_exp=False,
    ip=None,
):
    for value, label in (
        (max_lifetime_days, "maximum lifetime"),
        (max_live_tokens_per_member, "maximum live tokens"),
    ):
        if value is not None and value < 1:
            raise Refused("invalid_policy", f"The {label} must be at least 1, or empty for no cap.")
    policy, _ = TokenPolicy.objects.update_or_create(
        organization=organization,
        defaults={
            "require_expiry": require_expiry,
            "max_lifetime_days": max_lifetime_days,
            "max_live_tokens_per_member": max_live_tokens_per_member,
            "require_jwt_exp": require_jwt_exp,
        },
    )
    audit.record(
        action=AuditEvent.Action.POLICY_CHANGED,
        organization=organization,
        kind=CredentialKind.POLICY,
        actor=by,
        ip=ip,
        detail=f"require expiry {require_expiry}, max lifetime {max_lifetime_days} days, "
        f"max live tokens {max_live_tokens_per_member}, require JWT exp {require_jwt_exp}",
    )
    return policy


@transaction.atomic
def import_legacy_token(*, organization, raw):
    """Keep only the digest of a pre-existing plaintext token, with every admin scope (Medchat)."""
    raw = raw.strip()
    if len(raw) < 16:
        raise Refused("legacy_token_too_short", "A legacy token has at least 16 characters.")
    if AccessToken.objects.filter(token_checksum=secret_format.digest(raw)).exists():
        raise Refused("legacy_token_exists", "That token is already imported.")
    owner = organization_account(organization)
    token = AccessToken(
        kind=Kind.PERSONAL,
        name=f"{organization.name} API Client",
        user=owner.user,
        membership=owner,
        organization=organization,
        scope=" ".join(catalog.ordered(catalog.allowed_for(Role.ADMIN, True))),
        expires=None,
        last4=raw[-4:],
    )
    set_token_value(token, raw)
    token.save()
    audit.record(action=AuditEvent.Action.ISSUED, credential=token, detail="imported legacy token")
    return token


def reissue_to_service_account(token, *, issuer, owner, ip=None):
    """The offboarding review's re-issue: the same name, scopes, reach and expiry, owned by `owner`."""
    expires_at = token.expires if token.expires and token.expires > timezone.now() else None
    return issue_personal_token(
        issuer=issuer,
        owner=owner,
        name=token.name,
        scopes=token.scope.split(),
        expires_at=expires_at,
        reach=token.reach,
        app_user_id=token.app_user_id,
        ip=ip,
    )


NARROW_DAYS = (7, 30, 90)


def narrowed_scopes(token, *, days, now=None):
    """The scopes `token` would keep when narrowed to what authorized its requests in the last
    `days` days: each fine scope used that it holds (a role bundle keeps only the ones used)."""
    now = now or timezone.now()
    ids = [token.pk, *token.rotated_from.values_list("pk", flat=True)]
    used = report.scopes_used_since(
        report.credential_filter(CredentialKind.PERSONAL, ids), now - datetime.timedelta(days=days)
    )
    granted = token.scope.split()
    kept = [name for name in granted if name in used]
    kept += sorted(used & catalog.expand(token.scope) - set(kept) - set(granted))
    return catalog.ordered(kept)


@transaction.atomic
def narrow_token(*, token, days, grace="24h", by, ip=None):
    """Rotate into a token with only the scopes used in the last `days` days (secret shown once,
    the old one working for `grace`), audited as a rotation that says what it kept."""
    if days not in NARROW_DAYS:
        raise Refused(
            "invalid_days",
            f"Narrow to the scopes of the last {', '.join(map(str, NARROW_DAYS))} days.",
            "days",
        )
    kept = narrowed_scopes(token, days=days)
    if not kept:
        raise Refused(
            "no_scope_used",
            f"No scope of this token authorized a request in the last {days} days: delete it instead.",
        )
    if set(kept) == set(token.scope.split()):
        raise Refused(
            "nothing_to_narrow", f"Every scope of this token was used in the last {days} days."
        )
    return rotate_token(token=token, grace=grace, by=by, ip=ip, scopes=kept)
