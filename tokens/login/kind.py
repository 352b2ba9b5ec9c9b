"""What the shared features need to know about login tokens and sessions (tokens.kinds)."""

import datetime

from django.conf import settings
from django.urls import reverse

from .. import scopes as catalog
from ..inventory import Row, matching
from ..kinds import Kind
from ..models import AccessToken, CredentialKind, RefreshToken
from ..models import Kind as TokenKind
from . import leaks


def inventory_rows(org, q, now, org_id):
    lifetime = datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    sessions = RefreshToken.objects.filter(
        revoked__isnull=True,
        access_token__kind=TokenKind.LOGIN,
        access_token__organization=org,
        created__gt=now - lifetime,
    )
    sessions = matching(sessions, q, "user__email", "access_token__user_agent")
    return [
        Row(
            kind=CredentialKind.LOGIN,
            kind_label="Login session",
            name=rt.access_token.user_agent or "API login",
            owner=rt.user,
            scopes=catalog.ordered(rt.access_token.scope.split()),
            created=rt.created,
            last_used=rt.access_token.last_used_at,
            expires=rt.created + lifetime,
            state="active",
            revoke_url=reverse("member_session_end", args=[org_id, rt.token_family]),
            revoke_label="End",
            note=rt.access_token.last_used_ip or rt.access_token.created_ip or "",
        )
        for rt in sessions.select_related("user", "access_token").order_by("-created", "-id")
    ]


KINDS = [
    Kind(
        name=CredentialKind.LOGIN,
        label="Login session",
        plural="Login sessions",
        objects=AccessToken.objects.all,
        pages=("sessions", None, None),
        inventory=inventory_rows,
        revoke_leaked=leaks.revoke_leaked,
    )
]
