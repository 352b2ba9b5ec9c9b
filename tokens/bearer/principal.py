"""Who calls the API and what they may do, and the one writer of a credential's last use."""

import datetime

from django.conf import settings

from accounts.http import client_ip


class Principal:
    """Who calls and what they may do: `request.auth` on every authenticated API request."""

    __slots__ = (
        "app_user_id",
        "developer_access",
        "group_id",
        "kind",
        "membership_id",
        "organization_id",
        "reach",
        "role",
        "scopes",
        "token_id",
        "user_id",
    )

    def __init__(
        self,
        *,
        kind,
        token_id,
        user_id,
        membership_id,
        organization_id,
        group_id,
        role,
        developer_access,
        scopes,
        reach="app",
        app_user_id="",
    ):
        self.kind = kind
        self.token_id = token_id
        self.user_id = user_id
        self.membership_id = membership_id
        self.organization_id = organization_id
        self.group_id = group_id
        self.role = role
        self.developer_access = developer_access
        self.scopes = scopes
        self.reach = reach
        self.app_user_id = app_user_id

    def __repr__(self):
        return f"<Principal {self.kind} token={self.token_id} user={self.user_id}>"


def record_use(model, pk, last_used_at, now, request):
    """Write a credential's last use at most once per TOKEN_LAST_USED_INTERVAL_SECONDS.

    Checked first in memory (no query at all most of the time), then by the UPDATE's own
    condition, so concurrent requests of one credential write once per interval.
    Returns True when it asked the database (the caller's copy of `last_used_at` is now `now`).
    """
    interval = settings.TOKEN_LAST_USED_INTERVAL_SECONDS
    if last_used_at is not None and (now - last_used_at).total_seconds() < interval:
        return False
    model.objects.filter(pk=pk).exclude(
        last_used_at__gt=now - datetime.timedelta(seconds=interval)
    ).update(last_used_at=now, last_used_ip=client_ip(request))
    return True
