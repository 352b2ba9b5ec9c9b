"""Login tokens reported leaked (tokens.leaks): the JWT or its refresh token ends the session."""

from django.db import transaction

from .. import secret_format
from ..leaks import Leaked
from ..models import AccessToken, CredentialKind, Kind, RefreshToken
from . import services
from .minting import LOGIN_CLIENT_ID

TOKEN_TYPE = "keyward_login_token"
REFRESH_TOKEN_TYPE = "keyward_refresh_token"


def _looks_like_jwt(raw):
    parts = raw.split(".")
    return len(parts) == 3 and raw.startswith("eyJ") and all(parts)


def revoke_leaked(raw):
    """End the live login session `raw` belongs to (its JWT or refresh token); None otherwise."""
    if not (_looks_like_jwt(raw) or secret_format.is_well_formed(raw, secret_format.REFRESH_TOKEN)):
        return None
    with transaction.atomic():
        return _revoke(raw)


def _revoke(raw):
    digest = secret_format.digest(raw)
    if _looks_like_jwt(raw):
        token = AccessToken.objects.filter(token_checksum=digest, kind=Kind.LOGIN).live().first()
        token_type = TOKEN_TYPE
    elif secret_format.is_well_formed(raw, secret_format.REFRESH_TOKEN):
        refresh = RefreshToken.objects.filter(
            token_checksum=digest, revoked__isnull=True, application__client_id=LOGIN_CLIENT_ID
        ).first()
        token = (
            AccessToken.objects.filter(pk=refresh.access_token_id, kind=Kind.LOGIN).first()
            if refresh
            else None
        )
        token_type = REFRESH_TOKEN_TYPE
    else:
        return None
    if token is None:
        return None
    token = AccessToken.objects.select_related("organization", "user").get(pk=token.pk)
    # The session's user may always end it; the `leaked` event beside says who reported it, where.
    if not services.revoke(user=token.user, raw=raw):
        return None
    return Leaked(credential=token, kind=CredentialKind.LOGIN, token_type=token_type)
