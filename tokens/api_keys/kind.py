"""What the shared features need to know about API keys (tokens.kinds)."""

from functools import partial

from ..inventory import Row, matching, state
from ..kinds import Kind
from ..models import ApiKey, CredentialKind
from . import leaks, services


def _holder(key):
    return key.membership.user if key.membership_id else key.created_by


def inventory_rows(org, q, now, org_id):
    keys = ApiKey.objects.live(now).filter(organization=org)
    keys = matching(keys, q, "name", "key_id", "membership__user__email", "created_by__email")
    keys = keys.select_related("membership__user", "created_by").order_by("-created_at", "-id")
    row = partial(Row.of, CredentialKind.API_KEY, "API key", delete="api_key_delete", org_id=org_id)
    return [
        row(
            k,
            owner=k.membership.user if k.membership else None,
            state=state(None, now, rotating=(k.previous_secret_expires_at or now) > now),
            note=k.key_id,
            extra={"created_by": k.created_by},
        )
        for k in keys
    ]


KINDS = [
    Kind(
        name=CredentialKind.API_KEY,
        label="API key",
        plural="API keys",
        objects=ApiKey.objects.all,
        related=("organization", "membership__user", "created_by"),
        owner=_holder,
        pages=("api_keys", "api_key_detail", "key_id"),
        announced=True,
        inventory=inventory_rows,
        held_by=lambda membership, mine: ApiKey.objects.live().filter(mine),
        revoke=lambda key, *, by, ip=None: services.revoke_api_key(key=key, by=by, ip=ip),
        reissue=services.reissue_to_service_account,
        revoke_leaked=leaks.revoke_leaked,
        counted=lambda now: ApiKey.objects.live(now),
    )
]
