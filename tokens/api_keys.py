"""Every write to an API key goes through here (Smooch's key id + secret)."""

import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.errors import Refused
from accounts.models import Organization

from . import scopes as catalog
from . import sealing, secret_format
from .models import ApiKey, AuditEvent, Reach
from .rules import resolve_owner
from .services import (
    GRACE_PERIODS,
    OneTimeSecret,
    clean_name,
    clean_scopes,
    organization_account,
)

log = logging.getLogger(__name__)
KIND = "api_key"


@dataclass
class IssuedKey:
    key: ApiKey
    secret: OneTimeSecret


def _audit(key, *, by, action, ip=None, detail=""):
    return AuditEvent.objects.create(
        organization_id=key.organization_id, actor=by, action=action, credential_kind=KIND,
        credential_id=key.pk, credential_name=key.name, credential_last4=key.secret_last4, ip=ip,
        detail=detail,
    )


def _set_secret(key, secret):
    key.secret_digest = secret_format.digest(secret)
    key.sealed_secret = sealing.seal(secret) if key.allow_jwt else ""
    key.secret_last4 = secret[-4:]


def reveal_secret(issued, *, by, ip=None):
    value = issued.secret.reveal()
    _audit(issued.key, by=by, action=AuditEvent.Action.SECRET_SHOWN, ip=ip)
    return value


@transaction.atomic
def create_api_key(*, issuer, name, scopes, reach=Reach.APP, owner=None, allow_jwt=True, ip=None,
                   bound_by=None):
    """A key acting as `owner` (a service account) or, by default, as the organization itself."""
    name = clean_name(name)
    organization = issuer.organization
    # Lock the organization row first: parallel creations then count live keys (and create
    # the organization's own account) one at a time.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if owner is not None:
        owner = resolve_owner(issuer, owner)
    else:
        owner = organization_account(organization)
    allowed = catalog.allowed_for(issuer.role, issuer.has_developer_access)
    if bound_by is not None:
        allowed &= frozenset(bound_by)
    scope_names = clean_scopes(
        scopes, allowed=allowed, owner_allowed=catalog.allowed_for(owner.role, owner.has_developer_access),
        owner_label=f"{owner.user.email}, {owner.role}",
    )
    if reach not in (Reach.APP, Reach.ACCOUNT):
        raise Refused("invalid_reach", "An API key reaches `app` or `account`; appUser is a JWT claim.",
                         "reach")
    if reach == Reach.ACCOUNT and not (
        organization.group_id and organization.group.owners.filter(pk=issuer.user_id).exists()
    ):
        raise Refused("reach_not_allowed", "Account reach is for owners of the organization's group.",
                         "reach")

    limit = settings.API_KEYS_PER_ORGANIZATION
    if ApiKey.objects.live().filter(organization=organization).count() >= limit:
        raise Refused("api_key_limit_reached",
                         f"The organization has {limit} live API keys, the most allowed; delete one first.")

    secret = secret_format.generate(secret_format.API_KEY_SECRET)
    key = ApiKey(
        key_id=secret_format.generate(secret_format.API_KEY_ID), name=name, organization=organization,
        membership=owner, scope=" ".join(scope_names), reach=reach, allow_jwt=allow_jwt,
        created_by=issuer.user, created_ip=ip,
    )
    _set_secret(key, secret)
    key.save()
    _audit(key, by=issuer.user, action=AuditEvent.Action.ISSUED, ip=ip)
    log.info("api key %s …%s created by user %s", key.key_id, key.secret_last4, issuer.user_id)
    return IssuedKey(key=key, secret=OneTimeSecret(secret))


@transaction.atomic
def rename_api_key(*, key, name, by, ip=None):
    key.name = clean_name(name)
    key.save(update_fields=["name"])
    _audit(key, by=by, action=AuditEvent.Action.RENAMED, ip=ip)
    return key


@transaction.atomic
def rotate_api_key(*, key, grace="none", by, ip=None):
    """A new secret under the same key id; the previous one keeps working for `grace`."""
    if grace not in GRACE_PERIODS:
        raise Refused("invalid_grace_period", "The grace period is one of: none, 1h, 24h, 7d.",
                         "grace_period")
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if key.revoked_at is not None and key.revoked_at <= now:
        raise Refused("token_revoked", "This API key is deleted; it cannot be rotated.")
    key.previous_secret_digest = key.secret_digest
    key.previous_sealed_secret = key.sealed_secret
    key.previous_secret_expires_at = now + GRACE_PERIODS[grace]
    secret = secret_format.generate(secret_format.API_KEY_SECRET)
    _set_secret(key, secret)
    key.save()
    _audit(key, by=by, action=AuditEvent.Action.ROTATED, ip=ip, detail=f"old secret works for {grace}")
    return IssuedKey(key=key, secret=OneTimeSecret(secret))


@transaction.atomic
def revoke_api_key(*, key, by, ip=None):
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    _audit(key, by=by, action=AuditEvent.Action.REVOKED, ip=ip)
    return key


def secret_matches(key, secret, now):
    """Constant-time check of a presented secret against the current one (or the previous, in grace)."""
    digest = secret_format.digest(secret)
    if hmac.compare_digest(digest, key.secret_digest):
        return True
    return bool(
        key.previous_secret_digest
        and key.previous_secret_expires_at
        and key.previous_secret_expires_at > now
        and hmac.compare_digest(digest, key.previous_secret_digest)
    )


def verification_secrets(key, now):
    """The secrets that may have signed a caller's JWT: the current one, and the previous in grace."""
    found = [sealing.unseal(key.sealed_secret)] if key.sealed_secret else []
    if key.previous_sealed_secret and key.previous_secret_expires_at and key.previous_secret_expires_at > now:
        found.append(sealing.unseal(key.previous_sealed_secret))
    return found
