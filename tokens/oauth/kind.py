"""What the shared features need to know about OAuth clients and the grants people give
them (tokens.kinds)."""

from functools import partial

from django.urls import reverse

from ..inventory import Row, matching, state
from ..kinds import Kind
from ..models import AccessToken, Application, CredentialKind
from . import leaks, services


def inventory_rows(org, q, now, org_id):
    clients = Application.objects.filter(organization=org).exclude(
        client_id=Application.LOGIN_CLIENT_ID
    )
    clients = matching(clients, q, "name", "client_id", "created_by__email")
    clients = clients.select_related("created_by").order_by("-created", "-id")
    row = partial(
        Row.of,
        CredentialKind.OAUTH_CLIENT,
        "OAuth client",
        delete="oauth_client_delete",
        org_id=org_id,
    )
    return [row(c, owner=c.created_by, note=c.get_client_type_display()) for c in clients]


def grant_rows(org, q, now, org_id):
    grants = AccessToken.objects.oauth_grants(organization_id=org.pk, now=now)
    grants = matching(grants, q, "application__name", "user__email")
    rows = []
    for g in grants.select_related("user", "application"):
        row = Row(
            kind=CredentialKind.OAUTH,
            kind_label="OAuth grant",
            name=g.application.name if g.application else "",
            owner=g.user,
            scopes=g.scope_list,
            created=g.created,
            last_used=g.last_used_at,
            expires=g.expires,
            state=state(None, now),
            note="Only the person who authorized it revokes a grant; deleting the client ends them all.",
        )
        # A grant is revoked by the person who gave it; an admin deletes the client instead.
        if g.application and g.application.organization_id == org.pk:
            row.revoke_url = reverse("oauth_client_delete", args=[org_id, g.application.pk])
            row.revoke_label = "Delete client"
        rows.append(row)
    return rows


KINDS = [
    Kind(
        name=CredentialKind.OAUTH_CLIENT,
        label="OAuth client",
        plural="OAuth clients",
        objects=Application.objects.all,
        pages=("oauth_clients", "oauth_client_detail", "client_pk"),
        announced=True,
        inventory=inventory_rows,
        held_by=lambda membership, mine: Application.objects.filter(
            created_by_id=membership.user_id
        ),
        # A departed member's client is deleted; it has no owner to re-issue to (its tokens
        # belong to the people who granted them).
        revoke=lambda application, *, by, ip=None: services.delete_client(
            application=application, by=by, ip=ip
        ),
        revoke_leaked=leaks.revoke_leaked,
        counted=lambda now: Application.objects.all(),
    ),
    Kind(
        name=CredentialKind.OAUTH,
        label="OAuth grant",
        plural="OAuth grants",
        objects=AccessToken.objects.all,
        pages=("oauth_grants", None, None),
        inventory=grant_rows,
    ),
]
