"""What the shared features need to know about personal access tokens (tokens.kinds)."""

from functools import partial

from ..inventory import Row, matching, state
from ..kinds import Kind
from ..models import AccessToken, CredentialKind
from . import leaks, services


def inventory_rows(org, q, now, org_id):
    # A rotated token's old row is its successor's previous secret: one row, marked rotating.
    tokens = (
        AccessToken.objects.personal()
        .filter(organization=org, rotated_into__isnull=True)
        .unrevoked(now)
    )
    tokens = matching(tokens, q, "name", "user__email", "user__name")
    row = partial(Row.of, CredentialKind.PERSONAL, "Token", delete="token_delete", org_id=org_id)
    return [
        row(
            t,
            owner=t.user,
            state=state(t.expires, now, rotating=t.revoked_at or t.previous_secret_until),
            note=f"…{t.last4}",
        )
        for t in tokens.for_list(now)
    ]


KINDS = [
    Kind(
        name=CredentialKind.PERSONAL,
        label="Access token",
        plural="Personal access tokens",
        objects=AccessToken.objects.personal,
        pages=("tokens", "token_detail", "token_id"),
        announced=True,
        reminded=True,
        inventory=inventory_rows,
        held_by=lambda membership, mine: AccessToken.objects.personal().live().filter(mine),
        revoke=lambda token, *, by, ip=None: services.revoke_token(token=token, by=by, ip=ip),
        reissue=services.reissue_to_service_account,
        revoke_leaked=leaks.revoke_leaked,
        counted=lambda now: AccessToken.objects.personal().live(now),
    )
]
