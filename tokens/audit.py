"""The one writer of the audit log: who did what to which credential, when and from where.

Every credential write (and every change of organizations, groups and members)
calls `record`, which is also where those changes reach every process's credential
cache (`invalidated_by`); handing out a one-time secret goes through `reveal`, which
records *secret shown*. Events carry a credential's kind, id, name and last 4
characters: never a secret or a digest.

Being the one seam every write passes, it also tells its listeners (`listen`): chats
registers the emitter of credential.created/rotated/revoked webhooks there, since
tokens may not import chats. Listeners run inside the writer's transaction.
"""

from . import invalidation, notifications
from .models import AuditEvent, CredentialKind

# What an audited change may alter in a cached answer (tokens.credential_cache). Issuing,
# renaming and showing a secret alter none; every other action publishes.
_UNCHANGED = {AuditEvent.Action.ISSUED, AuditEvent.Action.RENAMED, AuditEvent.Action.SECRET_SHOWN}
_TAG_OF_KIND = {
    CredentialKind.PERSONAL: "token",
    CredentialKind.LOGIN: "token",
    CredentialKind.OAUTH: "token",
    CredentialKind.API_KEY: "key",
    CredentialKind.OAUTH_CLIENT: "app",
}


def invalidated_by(audit_event):
    """The cache tags an audited change invalidates: the credential itself when it is one of
    those the cache holds, everything for organization and group changes (a deleted
    organization's events land in another one's log), else the event's organization."""
    if audit_event.action in _UNCHANGED:
        return ()
    kind = audit_event.credential_kind
    if audit_event.credential_id is not None and kind in _TAG_OF_KIND:
        return (f"{_TAG_OF_KIND[kind]}:{audit_event.credential_id}",)
    if kind == CredentialKind.WEBHOOK:
        return ()
    if kind in (CredentialKind.ORGANIZATION, CredentialKind.GROUP):
        return ("all",)
    return (f"org:{audit_event.organization_id}",)


_listeners = []


def listen(listener):
    """Call `listener(audit_event, credential)` after each event is written."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def _tell(audit_event, credential):
    for listener in _listeners:
        listener(audit_event, credential)


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
    _tell(audit_event, fields.get("credential"))
    invalidation.publish(*invalidated_by(audit_event))
    return audit_event


def record_each(credentials, **fields):
    """One event per credential, in one INSERT."""
    credentials = list(credentials)
    events = AuditEvent.objects.bulk_create([event(credential=c, **fields) for c in credentials])
    for audit_event, credential in zip(events, credentials, strict=True):
        _tell(audit_event, credential)
    invalidation.publish(*(tag for audit_event in events for tag in invalidated_by(audit_event)))
    return events


def reveal(issued, *, by, ip=None):
    """Hand out an issued credential's one-time plaintext, recording that it was shown and to whom."""
    value = issued.secret.reveal()
    record(action=AuditEvent.Action.SECRET_SHOWN, credential=issued.credential, actor=by, ip=ip)
    return value
