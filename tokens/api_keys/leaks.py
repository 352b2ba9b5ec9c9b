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
    """Revoke the live key whose secret `raw` is; None when it is none (refused by checksum first)."""
    if not secret_format.is_well_formed(raw, secret_format.API_KEY_SECRET):
        return None
    now = timezone.now()
    digest = secret_format.digest(raw)
    with transaction.atomic():
        key = (
            ApiKey.objects.live(now)
            .select_for_update(of=("self",))
            .select_related("organization", "membership__user", "created_by")
            .filter(
                Q(secret_digest=digest)
                | Q(previous_secret_digest=digest, previous_secret_expires_at__gt=now)
            )
            .first()
        )
        if key is None:
            return None
        owner = key.membership.user if key.membership_id else key.created_by
        services.revoke_api_key(
            key=key, by=owner
        )  # in its owner's name; the `leaked` event says where
    return Leaked(credential=key, kind=CredentialKind.API_KEY, token_type=TOKEN_TYPE)
