"""DRF authentication: bearer tokens in one indexed query, and portal sessions.

The bearer path is the hottest code in Keyward. It costs one SQL query built
once per database alias (no ORM query building per request), refuses a
`kw_pat_` string with a bad checksum before asking the database, never reads
the request body or the query string for a token, and checks what DOT's stock
class does not: the owner's account is active and still a member, and the
scopes are cut to what the membership allows today.
"""

import datetime
import logging

from django.conf import settings
from django.db import connections
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import User

from . import scopes as catalog
from . import secret_format
from .models import AccessToken

log = logging.getLogger(__name__)

_UTC = datetime.UTC


class Principal:
    """Who calls and what they may do: `request.auth` on every authenticated API request."""

    __slots__ = (
        "kind",
        "token_id",
        "user_id",
        "membership_id",
        "organization_id",
        "group_id",
        "role",
        "developer_access",
        "scopes",
        "reach",
        "app_user_id",
    )

    def __init__(self, *, kind, token_id, user_id, membership_id, organization_id, group_id,
                 role, developer_access, scopes, reach="app", app_user_id=""):
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

    def has_scopes(self, required):
        return self.scopes.issuperset(required)


def _fail(code, detail):
    return exceptions.AuthenticationFailed(detail, code=code)


_COLUMNS = (
    "id",
    "kind",
    "scope",
    "expires",
    "revoked_at",
    "last_used_at",
    "organization_id",
    "membership_id",
    "membership__organization_id",
    "membership__role",
    "membership__developer_access",
    "membership__user_id",
    "membership__user__email",
    "membership__user__is_active",
    "membership__user__is_service_account",
    "organization__group_id",
    "reach",
    "app_user_id",
)
_sql_by_alias = {}


def _lookup_sql(alias):
    """The lookup's SQL, compiled by the ORM once per database alias, then reused."""
    sql = _sql_by_alias.get(alias)
    if sql is None:
        query = AccessToken.objects.filter(token_checksum="").values_list(*_COLUMNS).query
        sql, _params = query.get_compiler(using=alias).as_sql()
        _sql_by_alias[alias] = sql
    return sql


def _aware(value):
    # PostgreSQL answers aware datetimes; SQLite naive UTC ones (or text).
    if value is None or isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.replace(tzinfo=_UTC)


def _client_ip(request):
    return request.META.get("REMOTE_ADDR") or None


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer …` for every token kept as an AccessToken row.

    Personal tokens (`kw_pat_…`, and legacy imported ones), OAuth access tokens
    issued by django-oauth-toolkit and login tokens all resolve through the
    same digest lookup; the row's `kind` says which it is.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            if "access_token=" in request.META.get("QUERY_STRING", ""):
                raise _fail(
                    "invalid_request",
                    "Tokens are never accepted in the URL. Send it in the Authorization header.",
                )
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        raw = raw.strip()
        if not raw:
            raise _fail("invalid_token", "The Authorization header has no token after 'Bearer'.")
        if raw.startswith("kw_") and not raw.startswith(
            (secret_format.PERSONAL_TOKEN, secret_format.OAUTH_TOKEN)
        ):
            if raw.startswith(secret_format.REFRESH_TOKEN):
                raise _fail(
                    "invalid_token",
                    "That is a refresh token; send it to /api/v1/auth/token, not as a Bearer token.",
                )
            return None  # another kw_ kind (API key JWTs etc.) belongs to another class
        if raw.startswith(secret_format.PERSONAL_TOKEN) and not secret_format.is_well_formed(
            raw, secret_format.PERSONAL_TOKEN
        ):
            raise _fail("invalid_token", "The token is malformed or mistyped (its checksum does not match).")
        return self.authenticate_digest(request, secret_format.digest(raw))

    def authenticate_digest(self, request, digest):
        connection = connections["default"]
        with connection.cursor() as cursor:
            cursor.execute(_lookup_sql(connection.alias), [digest])
            row = cursor.fetchone()
        if row is None:
            raise _fail("invalid_token", "The token is not valid.")
        (token_id, kind, scope, expires, revoked_at, last_used_at, organization_id, membership_id,
         member_org_id, role, developer_access, user_id, email, is_active, is_service_account,
         group_id, reach, app_user_id) = row

        now = timezone.now()
        revoked_at = _aware(revoked_at)
        if revoked_at is not None and revoked_at <= now:
            raise _fail("token_revoked", f"The token was revoked at {revoked_at:%Y-%m-%dT%H:%M:%SZ}.")
        expires = _aware(expires)
        if expires is not None and expires <= now:
            raise _fail(
                "token_expired",
                f"The access token expired at {expires:%Y-%m-%dT%H:%M:%SZ}. "
                "Refresh it or create a new one.",
            )
        if membership_id is None or member_org_id != organization_id:
            raise _fail("invalid_token", "The token's owner is no longer a member of its organization.")
        if not is_active:
            raise _fail("invalid_token", "The token's owner is deactivated.")

        last_used_at = _aware(last_used_at)
        interval = settings.TOKEN_LAST_USED_INTERVAL_SECONDS
        if last_used_at is None or (now - last_used_at).total_seconds() >= interval:
            self._touch(token_id, now, _client_ip(request), interval)

        user = User(id=user_id, email=email, is_active=is_active, is_service_account=is_service_account)
        user._state.adding = False
        user._state.db = connection.alias
        principal = Principal(
            kind=kind,
            token_id=token_id,
            user_id=user_id,
            membership_id=membership_id,
            organization_id=organization_id,
            group_id=group_id,
            role=role,
            developer_access=developer_access,
            scopes=catalog.effective(scope, role, developer_access),
            reach=reach,
            app_user_id=app_user_id,
        )
        return user, principal

    @staticmethod
    def _touch(token_id, now, ip, interval):
        # The condition makes concurrent requests write at most once per interval.
        AccessToken.objects.filter(pk=token_id).exclude(
            last_used_at__gt=now - datetime.timedelta(seconds=interval)
        ).update(last_used_at=now, last_used_ip=ip)

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Portal users in the browsable API: their membership in the current organization decides."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        memberships = user.memberships.select_related("organization")
        org_id = request._request.session.get("org_id")
        membership = None
        if org_id:
            membership = memberships.filter(organization__public_id=org_id).first()
        if membership is None:
            membership = memberships.first()
        if membership is None:
            return user, Principal(
                kind="session", token_id=None, user_id=user.pk, membership_id=None,
                organization_id=None, group_id=None, role=None, developer_access=False,
                scopes=frozenset(),
            )
        return user, Principal(
            kind="session",
            token_id=None,
            user_id=user.pk,
            membership_id=membership.pk,
            organization_id=membership.organization_id,
            group_id=membership.organization.group_id,
            role=membership.role,
            developer_access=membership.developer_access,
            scopes=catalog.allowed_for(membership.role, membership.developer_access),
        )

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
