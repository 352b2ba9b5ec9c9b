"""OAuth access and refresh tokens reported leaked (tokens.leaks): the grant is revoked."""

from django.db import transaction

from .. import secret_format
from ..leaks import Leaked
from ..models import AccessToken, Application, CredentialKind, Kind, RefreshToken
from . import services

TOKEN_TYPE = "keyward_oauth_access_token"
REFRESH_TOKEN_TYPE = "keyward_refresh_token"


def revoke_leaked(raw):
    """Revoke the live OAuth grant `raw` belongs to (access or refresh token); None otherwise."""
    if not any(
        secret_format.is_well_formed(raw, p)
        for p in (secret_format.OAUTH_TOKEN, secret_format.REFRESH_TOKEN)
    ):
        return None
    with transaction.atomic():
        return _revoke(raw)


def _revoke(raw):
    if secret_format.is_well_formed(raw, secret_format.OAUTH_TOKEN):
        token, token_type = (
            _live(AccessToken.objects.filter(token_checksum=secret_format.digest(raw))),
            TOKEN_TYPE,
        )
    elif secret_format.is_well_formed(raw, secret_format.REFRESH_TOKEN):
        refresh = (
            RefreshToken.objects.filter(
                token_checksum=secret_format.digest(raw), revoked__isnull=True
            )
            .exclude(application__client_id=Application.LOGIN_CLIENT_ID)
            .first()
        )
        token = _live(AccessToken.objects.filter(pk=refresh.access_token_id)) if refresh else None
        token_type = REFRESH_TOKEN_TYPE
    else:
        return None
    if token is None:
        return None
    services.revoke_grant(
        token=token, by=token.user
    )  # only its granter may; the `leaked` event says where
    return Leaked(credential=token, kind=CredentialKind.OAUTH, token_type=token_type)


def _live(tokens):
    return tokens.filter(kind=Kind.OAUTH).live().select_related("organization", "user").first()
