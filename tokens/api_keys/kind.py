"""What the shared features need to know about API keys (tokens.kinds)."""

from django.db.models import Q
from django.urls import reverse

from ..inventory import Row, state
from ..kinds import Kind
from ..models import ApiKey, CredentialKind
from . import leaks, services


def _holder(key):
    return key.membership.user if key.membership_id else key.created_by


def inventory_rows(org, q, now, org_id):
    keys = ApiKey.objects.live(now).filter(organization=org)
    if q:
        keys = keys.filter(
            Q(name__icontains=q)
            | Q(key_id__icontains=q)
            | Q(membership__user__email__icontains=q)
            | Q(created_by__email__icontains=q)
        )
    return [
        Row(
            CredentialKind.API_KEY,
            "API key",
            k.name,
            k.membership.user if k.membership else None,
            k.scope_list,
            k.created_at,
            k.last_used_at,
            None,
            state(
                None,
                now,
                rotating=bool(k.previous_secret_expires_at and k.previous_secret_expires_at > now),
            ),
            revoke_url=reverse("api_key_delete", args=[org_id, k.pk]),
            usage_key=(CredentialKind.API_KEY.value, k.pk),
            revoke_label="Delete",
            note=k.key_id,
            extra={"created_by": k.created_by},
        )
        for k in keys.select_related("membership__user", "created_by").order_by(
            "-created_at", "-id"
        )
    ]


KINDS = [
    Kind(
        name=CredentialKind.API_KEY,
        label="API key",
        plural="API keys",
        credentials=lambda: ApiKey.objects.select_related(
            "organization", "membership__user", "created_by"
        ),
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
