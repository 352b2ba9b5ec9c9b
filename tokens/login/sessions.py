"""Which login sessions are live, and how one reads in a list.

A session is one refresh-token family; it is live while its newest refresh token is
unrevoked and younger than LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS. Only its own user
sees it (admins do not): `live_sessions` is the one place that says so, for the API,
the portal and the services alike.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ..models import Kind, RefreshToken


@dataclass(frozen=True)
class LoginSession:
    """One session as people see it: never a secret or a digest."""

    id: uuid.UUID
    created_at: datetime.datetime
    last_used_at: datetime.datetime
    ip: str | None
    user_agent: str
    expires_at: datetime.datetime
    access_token_expires_at: datetime.datetime
    current: bool = False


def _lifetime():
    return datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)


def live_sessions(*, user, organization=None):
    """The user's live sessions (in one organization, or everywhere): one live refresh token
    each, with its current access token."""
    sessions = RefreshToken.objects.filter(
        user=user,
        revoked__isnull=True,
        access_token__kind=Kind.LOGIN,
        created__gt=timezone.now() - _lifetime(),
    )
    if organization is not None:
        sessions = sessions.filter(access_token__organization=organization)
    return sessions


def sessions_for_list(*, user, organization):
    """Live sessions with what a list shows, newest first, in one query."""
    started = (
        RefreshToken.objects.filter(token_family=OuterRef("token_family"))
        .order_by("created")
        .values("created")[:1]
    )
    return (
        live_sessions(user=user, organization=organization)
        .select_related("access_token")
        .annotate(started_at=Subquery(started))
        .order_by("-started_at", "-id")
    )


def describe(refresh_token, *, current_token_id=None):
    """A session row as people see it."""
    access_token = refresh_token.access_token
    return LoginSession(
        id=refresh_token.token_family,
        created_at=getattr(refresh_token, "started_at", None) or refresh_token.created,
        last_used_at=access_token.last_used_at or access_token.created,
        ip=access_token.last_used_ip or access_token.created_ip,
        user_agent=access_token.user_agent,
        expires_at=refresh_token.created + _lifetime(),
        access_token_expires_at=access_token.expires,
        current=current_token_id is not None and access_token.pk == current_token_id,
    )
