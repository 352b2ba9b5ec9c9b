"""Personal tokens reported leaked (tokens.leaks): found by digest, revoked like a DELETE."""

from django.db import transaction

from .. import secret_format
from ..leaks import Leaked
from ..models import AccessToken, CredentialKind
from . import services

TOKEN_TYPE = "keyward_personal_access_token"


def revoke_leaked(raw):
    """Revoke the personal token `raw` is, if live; None when it is none (refused by checksum first)."""
    if not secret_format.is_well_formed(raw, secret_format.PERSONAL_TOKEN):
        return None
    with transaction.atomic():
        # Locked live or not: of two reports at once, one revokes and the other finds it dead.
        token = (
            AccessToken.objects.personal()
            .select_for_update(of=("self",))
            .select_related("organization", "user")
            .filter(token_checksum=secret_format.digest(raw))
            .first()
        )
        if token is None:
            return None
        live = token.is_live()
        if live:
            # Revoked in its owner's name, the one who may always revoke it; the `leaked` event
            # beside it says who reported it and where.
            services.revoke_token(token=token, by=token.user)
    return Leaked(
        credential=token, kind=CredentialKind.PERSONAL, token_type=TOKEN_TYPE, revoked=live
    )
