"""Every write to an API key goes through here (Smooch's key id + secret).

The writes (`create_api_key`, `rename_api_key`, `rotate_api_key`, `revoke_api_key`) are
keyword-only, atomic, and record their audit event; creating and rotating return an
`Issued` whose one-time secret nothing else ever holds. `secret_matches` and
`verification_secrets` are the read side used by authentication.
"""

import hmac
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.errors import Refused
from accounts.services import organization_account

from .. import audit, rules, sealing, secret_format
from ..models import ApiKey, AuditEvent, Reach
from ..one_time import Issued, OneTimeSecret

log = logging.getLogger(__name__)


def _set_secret(key, secret):
    key.secret_digest = secret_format.digest(secret)
    key.sealed_secret = sealing.seal(secret) if key.allow_jwt else ""
    key.secret_last4 = secret[-4:]


@transaction.atomic
def create_api_key(
    *, issuer, name, scopes, reach=Reach.APP, owner=None, allow_jwt=True, ip=None, bound_by=None
):
    """A key acting as `owner` (a service account) or, by default, as the organization itself."""
    name = rules.clean_name(name, what="API key")
    organization = issuer.organization
    # Parallel creations count live keys (and create the organization's own account) one at a time.
    rules.lock_for_counting(organization=organization)
    owner = (
        rules.resolve_owner(issuer, owner)
        if owner is not None
        else organization_account(organization)
    )
    scope_names = rules.credential_scopes(scopes, issuer=issuer, owner=owner, bound_by=bound_by)
    if reach not in (Reach.APP, Reach.ACCOUNT):
        raise Refused(
            "invalid_reach",
            "An API key reaches `app` or `account`; appUser is a JWT claim.",
            "reach",
        )
    if reach == Reach.ACCOUNT and not rules.is_group_owner(issuer):
        raise Refused(
            "reach_not_allowed", "Account reach is for owners of the organization's group.", "reach"
        )

    limit = settings.API_KEYS_PER_ORGANIZATION
    if ApiKey.objects.live().filter(organization=organization).count() >= limit:
        raise Refused(
            "api_key_limit_reached",
            f"The organization has {limit} live API keys, the most allowed; delete one first.",
        )

    secret = secret_format.generate(secret_format.API_KEY_SECRET)
    key = ApiKey(
        key_id=secret_format.generate(secret_format.API_KEY_ID),
        name=name,
        organization=organization,
        membership=owner,
        scope=" ".join(scope_names),
        reach=reach,
        allow_jwt=allow_jwt,
        created_by=issuer.user,
        created_ip=ip,
    )
    _set_secret(key, secret)
    key.save()
    audit.record(action=AuditEvent.Action.ISSUED, credential=key, actor=issuer.user, ip=ip)
    log.info("api key %s …%s created by user %s", key.key_id, key.secret_last4, issuer.user_id)
    return Issued(credential=key, secret=OneTimeSecret(secret))


@transaction.atomic
def rename_api_key(*, key, name, by, ip=None):
    old = key.name
    name = rules.clean_name(name, what="API key")
    if name == old:
        return key  # nothing changed, so nothing to audit
    key.name = name
    key.save(update_fields=["name"])
    audit.record(
        action=AuditEvent.Action.RENAMED, credential=key, actor=by, ip=ip, detail=f"from {old!r}"
    )
    return key


@transaction.atomic
def rotate_api_key(*, key, grace="none", by, ip=None):
    """A new secret under the same key id; the previous one keeps working for `grace`."""
    grace_for = rules.grace_period(grace)
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if key.revoked_at is not None and key.revoked_at <= now:
        raise Refused("token_revoked", "This API key is deleted; it cannot be rotated.")
    key.previous_secret_digest = key.secret_digest
    key.previous_sealed_secret = key.sealed_secret
    key.previous_secret_expires_at = now + grace_for
    secret = secret_format.generate(secret_format.API_KEY_SECRET)
    _set_secret(key, secret)
    key.save()
    audit.record(
        action=AuditEvent.Action.ROTATED,
        credential=key,
        actor=by,
        ip=ip,
        detail=f"old secret works for {grace}",
    )
    log.info("api key %s rotated by user %s", key.key_id, by.pk)
    return Issued(credential=key, secret=OneTimeSecret(secret))


@transaction.atomic
def end_overlap(*, key, by, ip=None):
    """End a rotation's overlap now: the previous secret stops working, the current one stays."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if not (key.previous_secret_expires_at and key.previous_secret_expires_at > now):
        raise Refused("no_overlap", "This API key has no previous secret that still works.")
    key.previous_secret_digest = key.previous_sealed_secret = ""
    key.previous_secret_expires_at = now
    key.save(
        update_fields=[
            "previous_secret_digest",
            "previous_sealed_secret",
            "previous_secret_expires_at",
        ]
    )
    audit.record(
        action=AuditEvent.Action.REVOKED,
        credential=key,
        actor=by,
        ip=ip,
        detail="previous secret: overlap ended early",
    )
    log.info("api key %s: overlap ended by user %s", key.key_id, by.pk)
    return key


@transaction.atomic
def revoke_api_key(*, key, by, ip=None):
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit.record(action=AuditEvent.Action.REVOKED, credential=key, actor=by, ip=ip)
    log.info("api key %s …%s revoked by user %s", key.key_id, key.secret_last4, by.pk)
    return key


CURRENT, PREVIOUS = "current", "previous"


def secret_matches(key, secret, now):
    """Constant-time check of a presented secret against the current one (or the previous, in
    grace): which one it matched (`CURRENT` or `PREVIOUS`, usage counts them apart), or ""."""
    digest = secret_format.digest(secret)
    if hmac.compare_digest(digest, key.secret_digest):
        return CURRENT
    if (
        key.previous_secret_digest
        and key.previous_secret_expires_at
        and key.previous_secret_expires_at > now
        and hmac.compare_digest(digest, key.previous_secret_digest)
    ):
        return PREVIOUS
    return ""


def verification_secrets(key, now):
    """The secrets that may have signed a caller's JWT: the current one, and the previous in grace."""
    found = [sealing.unseal(key.sealed_secret)] if key.sealed_secret else []
    if (
        key.previous_sealed_secret
        and key.previous_secret_expires_at
        and key.previous_secret_expires_at > now
    ):
        found.append(sealing.unseal(key.previous_sealed_secret))
    return found


def reissue_to_service_account(key, *, issuer, owner, ip=None):
    """The offboarding review's re-issue: the same name, scopes and reach, acting as `owner`."""
    return create_api_key(
        issuer=issuer,
        owner=owner,
        name=key.name,
        scopes=key.scope.split(),
        reach=key.reach,
        allow_jwt=key.allow_jwt,
        ip=ip,
    )
