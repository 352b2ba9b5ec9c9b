"""API key secrets reported leaked (tokens.leaks): the current or in-grace secret revokes the key."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import secret_format
from ..leaks import Leaked
from ..models import ApiKey, CredentialKind
from . import services

TOKEN_TYPE = "keyward_api_key_secret"


def revoke_leaked(raw):
    """Revoke the key whose secret `raw` is, if that secret still works; None when it is no
    key's secret (refused by checksum first)."""
    if not secret_format.is_well_formed(raw, secret_format.API_KEY_SECRET):
        return None
    now = timezone.now()
    digest = secret_format.digest(raw)
    with transaction.atomic():
        # Locked live or not: of two reports at once, one revokes and the other finds it dead.
        key = (
            ApiKey.objects.select_for_update(of=("self",))
            .select_related("organization", "membership__user", "created_by")
            .filter(Q(secret_digest=digest) | Q(previous_secret_digest=digest))
            .first()
        )
        if key is None:
            return None
        in_grace = (
            key.previous_secret_expires_at is not None and key.previous_secret_expires_at > now
        )
        works = (key.revoked_at is None or key.revoked_at > now) and (
            key.secret_digest == digest or in_grace
        )
        if works:
            owner = key.membership.user if key.membership_id else key.created_by
            # In its owner's name; the `leaked` event says where.
            services.revoke_api_key(key=key, by=owner)
    return Leaked(credential=key, kind=CredentialKind.API_KEY, token_type=TOKEN_TYPE, revoked=works)
