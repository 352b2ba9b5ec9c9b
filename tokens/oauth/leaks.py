"""OAuth access and refresh tokens reported leaked (tokens.leaks): the grant is revoked."""

from django.db import transaction

from .. import secret_format
from ..leaks import Leaked
from ..models import AccessToken, Application, CredentialKind, Kind, RefreshToken
from . import services

TOKEN_TYPE = "keyward_oauth_access_token"
REFRESH_TOKEN_TYPE = "keyward_refresh_token"


def revoke_leaked(raw):
    """Revoke the OAuth grant `raw` belongs to (access or refresh token) if `raw` still works;
    None when it is no OAuth token."""
    if not any(
        secret_format.is_well_formed(raw, p)
        for p in (secret_format.OAUTH_TOKEN, secret_format.REFRESH_TOKEN)
    ):
        return None
    with transaction.atomic():
        return _revoke(raw)


def _revoke(raw):
    digest = secret_format.digest(raw)
    if secret_format.is_well_formed(raw, secret_format.OAUTH_TOKEN):
        token = _locked(AccessToken.objects.filter(token_checksum=digest))
        if token is None:
            return None
        token_type, works = TOKEN_TYPE, token.is_live()
    else:
        refresh = (
            RefreshToken.objects.filter(token_checksum=digest)
            .exclude(application__client_id=Application.LOGIN_CLIENT_ID)
            .first()
        )
        if refresh is None:
            return None
        token_type = REFRESH_TOKEN_TYPE
        token = _locked(AccessToken.objects.filter(pk=refresh.access_token_id))
        # A refresh token outlives its access token's expiry: it works until revoked.
        works = token is not None and refresh.revoked is None and not token.is_revoked()
    if works:
        # Only its granter may revoke it; the `leaked` event says where.
        services.revoke_grant(token=token, by=token.user)
    return Leaked(credential=token, kind=CredentialKind.OAUTH, token_type=token_type, revoked=works)


def _locked(tokens):
    """The OAuth access token, locked live or not: of two reports at once, one revokes."""
    return (
        tokens.filter(kind=Kind.OAUTH)
        .select_for_update(of=("self",))
        .select_related("organization", "user")
        .first()
    )
