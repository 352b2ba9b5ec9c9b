"""credential.credits_low and credential.rate_limited: claimed once (a LimitNotice row), then
sent as a webhook (tokens.lifecycle) and an email to the owner (a task, off the sync thread)."""

from django.db import IntegrityError, transaction

from lib.tasks import enqueue_on_commit, task

from .. import lifecycle, notifications
from ..models import LimitNotice, Limits


def _subject(limits, key):
    """(kind, credential) a notice is about: the limits' credential, or for an organization's
    default the credential named at the start of `key` ("personal:12:burst")."""
    if limits.credential_id is not None:
        return limits.credential_kind, limits.credential_id
    kind, _, rest = key.partition(":")
    credential_id = rest.partition(":")[0]
    return kind, int(credential_id) if credential_id.isdigit() else None


def announce(limits_id, event, key, period):
    """Claim and send one notice; 0 when another process (or this one) announced it already."""
    limits = Limits.objects.filter(pk=limits_id).select_related("organization").first()
    if limits is None:
        return 0
    kind, credential_id = _subject(limits, key)
    credential = notifications.credential_of(kind, credential_id) if credential_id else None
    if credential is None:
        return 0
    try:
        with transaction.atomic():
            claim = LimitNotice.objects.create(
                limits=limits, event=event, key=key[:100], period=period
            )
            extra = (
                {"credits": {"usedPercent": int(key), "periodCredits": _period_credits(limits)}}
                if event == "credential.credits_low"
                else {"rateLimit": {"name": key.rsplit(":", 1)[-1], "window": period}}
            )
            lifecycle.emit(
                limits.organization,
                event,
                lifecycle.credential_payload(
                    credential, kind=kind, owner=notifications.owner_of(credential), **extra
                ),
            )
            enqueue_on_commit(send_limit_notice, claim.pk)
    except IntegrityError:
        return 0
    return 1


def _period_credits(limits):
    balance = getattr(limits, "balance", None)
    return balance.period_credits if balance is not None else None


@task()
def send_limit_notice(notice_id):
    """The owner's email for one claimed notice (safe to run twice: it only sends)."""
    claim = LimitNotice.objects.filter(pk=notice_id).select_related("limits").first()
    if claim is None:
        return 0
    kind, credential_id = _subject(claim.limits, claim.key)
    credential = notifications.credential_of(kind, credential_id) if credential_id else None
    if credential is None:
        return 0
    context = notifications.describe(kind, credential) | {
        "event": claim.event,
        "threshold": claim.key if claim.event == "credential.credits_low" else None,
        "limit_name": claim.key.rsplit(":", 1)[-1],
    }
    return notifications.send("limits_notice", notifications.recipients(kind, credential), context)
