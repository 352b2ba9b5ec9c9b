"""The one writer of the audit log: who did what to which credential, when and from where.

Every credential write (and every change of organizations, groups and members)
calls `record` (the database itself tells every process's credential cache what
changed: tokens.cache.invalidation); handing out a one-time secret goes through `reveal`, which
records *secret shown*. Events carry a credential's kind, id, name and last 4
characters: never a secret or a digest.

Being the one seam every write passes, it also hands each event to `tokens.lifecycle`, which
announces credential.created/rotated/revoked to its listeners, inside the writer's transaction.
Account changes reach it from `accounts.services.changes` (`record_account_change`).
"""

from . import lifecycle, notifications
from .models import AuditEvent


def event(
    *,
    action,
    credential=None,
    organization=None,
    organization_id=None,
    actor=None,
    kind=None,
    ip=None,
    detail="",
):
    """An unsaved event; `credential` is any model with `credential_kind`, `name` and `last4`
    (its organization is the event's unless another is given)."""
    if organization is not None:
        organization_id = organization.pk
    elif organization_id is None:
        organization_id = credential.organization_id
    return AuditEvent(
        organization_id=organization_id,
        actor=actor,
        action=action,
        credential_kind=kind or (credential.credential_kind if credential is not None else ""),
        credential_id=credential.pk if credential is not None else None,
        credential_name=(getattr(credential, "name", "") or "")[:100],
        credential_last4=getattr(credential, "last4", "") or "",
        ip=ip,
        detail=detail[:255],
    )


def record(**fields):
    """Write one event (see `event` for the fields)."""
    audit_event = event(**fields)
    audit_event.save()
    notifications.after_record(audit_event)  # the creation notice, once the write commits
    lifecycle.audited(audit_event, fields.get("credential"))
    return audit_event


def record_each(credentials, **fields):
    """One event per credential, in one INSERT."""
    credentials = list(credentials)
    events = AuditEvent.objects.bulk_create([event(credential=c, **fields) for c in credentials])
    for audit_event, credential in zip(events, credentials, strict=True):
        lifecycle.audited(audit_event, credential)
    return events


def reveal(issued, *, by, ip=None):
    """Hand out an issued credential's one-time plaintext, recording that it was shown and to whom."""
    value = issued.secret.reveal()
    record(action=AuditEvent.Action.SECRET_SHOWN, credential=issued.credential, actor=by, ip=ip)
    return value


def record_account_change(change):
    """Audit what accounts.services announces (members, invitations, organizations, groups),
    once in each organization whose log keeps it."""
    for organization in change.organizations:
        record(
            organization=organization,
            actor=change.by,
            action=change.action,
            kind=change.subject,
            ip=change.ip,
            detail=change.detail,
        )
