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
    """End the login session `raw` belongs to (its JWT or refresh token) if `raw` still works;
    None when it is no login token."""
    if not (_looks_like_jwt(raw) or secret_format.is_well_formed(raw, secret_format.REFRESH_TOKEN)):
        return None
    with transaction.atomic():
        return _revoke(raw)


def _revoke(raw):
    digest = secret_format.digest(raw)
    if _looks_like_jwt(raw):
        token = AccessToken.objects.filter(token_checksum=digest, kind=Kind.LOGIN).first()
        token_type, works = TOKEN_TYPE, token is not None and token.is_live()
    elif secret_format.is_well_formed(raw, secret_format.REFRESH_TOKEN):
        refresh = RefreshToken.objects.filter(
            token_checksum=digest, application__client_id=LOGIN_CLIENT_ID
        ).first()
        if refresh is None:
            return None
        token = AccessToken.objects.filter(pk=refresh.access_token_id, kind=Kind.LOGIN).first()
        token_type, works = REFRESH_TOKEN_TYPE, token is not None and refresh.revoked is None
        if token is None:  # a dead refresh token no longer linked to its access token
            return Leaked(
                credential=None, kind=CredentialKind.LOGIN, token_type=token_type, revoked=False
            )
    else:
        return None
    if token is None:
        return None
    token = AccessToken.objects.select_related("organization", "user").get(pk=token.pk)
    # The session's user may always end it; the `leaked` event beside says who reported it, where.
    # Ending it is one conditional UPDATE: of two reports at once, only one ends anything.
    revoked = works and bool(services.revoke(user=token.user, raw=raw))
    return Leaked(
        credential=token, kind=CredentialKind.LOGIN, token_type=token_type, revoked=revoked
    )
