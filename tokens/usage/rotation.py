"""`credential.rotation_idle`: once the previous secret of a rotation has sent nothing for
ROTATION_IDLE_SECONDS, its owners hear that the overlap can end. A scheduler job; each overlap
is announced once, whichever scheduler inserts its claim first."""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from .. import lifecycle
from ..models import (
    AccessToken,
    ApiKey,
    AuditEvent,
    CredentialKind,
    Kind,
    RotationNotice,
    UsageHour,
    UsageMinute,
)


def _last_previous_use(kind, ids):
    """The last bucket in which any of `ids` was used with a previous secret (minutes, then hours)."""
    last = None
    for model in (UsageMinute, UsageHour):
        found = model.objects.filter(
            credential_kind=kind, credential_id__in=ids, previous_secret=True
        ).aggregate(m=Max("bucket"))["m"]
        if found is not None and (last is None or found > last):
            last = found
    return last


def _overlaps(now):
    """(credential, kind, usage ids, overlap end, rotated at) of every rotation in its overlap."""
    for old in (
        AccessToken.objects.filter(
            kind=Kind.PERSONAL, rotated_into__isnull=False, revoked_at__gt=now
        )
        .select_related("rotated_into__organization", "rotated_into__user")
        .order_by("pk")
    ):
        yield old.rotated_into, CredentialKind.PERSONAL, [old.pk], old.revoked_at, old.updated
    for key in (
        ApiKey.objects.live(now)
        .filter(previous_secret_expires_at__gt=now)
        .select_related("organization", "membership__user")
    ):
        rotated = (
            AuditEvent.objects.filter(
                action=AuditEvent.Action.ROTATED,
                credential_kind=CredentialKind.API_KEY,
                credential_id=key.pk,
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        yield key, CredentialKind.API_KEY, [key.pk], key.previous_secret_expires_at, rotated


def announce_idle(*, now):
    """Scheduler job: announce each overlap whose previous secret went idle."""
    idle_for = dt.timedelta(seconds=settings.ROTATION_IDLE_SECONDS)
    announced = 0
    for credential, kind, ids, until, rotated_at in _overlaps(now):
        last = _last_previous_use(kind, ids) or rotated_at
        if last is not None and last > now - idle_for:
            continue
        try:
            with transaction.atomic():
                RotationNotice.objects.create(
                    credential_kind=kind, credential_id=credential.pk, overlap_until=until
                )
                owner = getattr(getattr(credential, "membership", None), "user", None)
                lifecycle.emit(
                    credential.organization,
                    "credential.rotation_idle",
                    lifecycle.credential_payload(
                        credential,
                        kind=kind,
                        owner=owner,
                        previousSecret={
                            "lastUsedAt": last.isoformat() if last else None,
                            "worksUntil": until.isoformat(),
                        },
                    ),
                )
        except IntegrityError:
            continue  # announced already (by this job earlier, or another scheduler)
        announced += 1
    return f"{announced} idle rotation(s) announced"
