"""Every credential event (`credential.created`, `.rotated`, `.revoked`, `.expiring`, `.expired`,
`.leaked`, `.rotation_idle`…), in one shape, for whoever listens: chats turns them into webhook
deliveries.

tokens may not import chats (imports run accounts <- tokens <- chats), so chats connects its
emitter here once, in its AppConfig.ready (lib.news):

    lifecycle.connect(events.emit)     # chats.events.emit(organization, event_type, payload)

The audit writer hands every event it writes to `audited`, which announces creation, rotation
and revocation of the kinds that are announced (tokens.kinds); the workers emit the rest.
Nobody connected (tests of tokens alone) means nothing is sent. Call `emit` inside the
transaction that makes the event true, so the two commit together.
"""

import datetime as dt

from lib.news import Channel

from . import kinds

_channel = Channel("tokens.lifecycle")

# What the audit log's actions are called as events.
ANNOUNCED_ACTIONS = {
    "issued": "credential.created",
    "rotated": "credential.rotated",
    "revoked": "credential.revoked",
}


def timestamp(moment):
    """The one way an event writes a moment: RFC 3339 in UTC with `Z`, to the second
    (`2026-11-27T10:00:00Z`), whatever zone or precision the value had."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(emitter):
    """Add `emitter(organization, event_type, payload)`; connecting the same one twice is a no-op."""
    return _channel.connect(emitter)


def disconnect(emitter):
    _channel.disconnect(emitter)


def emit(organization, event_type, payload):
    """Hand one event to every emitter. `payload` is JSON-ready and carries no secret; it may be
    a function that makes it, so an emitter that nobody subscribed to never pays for it
    (`payload_of`)."""
    _channel.send(organization, event_type, payload)


def payload_of(payload):
    return payload() if callable(payload) else payload


def audited(audit_event, credential):
    """Announce what an audit event says happened to a credential of an announced kind."""
    event_type = ANNOUNCED_ACTIONS.get(audit_event.action)
    kind = kinds.get(audit_event.credential_kind)
    if event_type is None or kind is None or not kind.announced or credential is None:
        return
    actor = audit_event.actor

    def payload():
        made = credential_payload(
            credential,
            kind=audit_event.credential_kind,
            owner=kind.owner(credential),
            actor={"id": actor.pk, "email": actor.email} if actor is not None else None,
            detail=audit_event.detail,
        )
        made["credential"]["scopes"] = list(getattr(credential, "scope_list", ()))
        return made

    emit(audit_event.organization_id, event_type, payload)


def credential_payload(credential, *, kind, owner=None, **extra):
    """The part of every credential event that says which one: never a secret or a digest."""
    expires = getattr(credential, "expires", None)
    return {
        "credential": {
            "kind": kind,
            "id": credential.pk,
            "name": getattr(credential, "name", "") or "",
            "last4": getattr(credential, "last4", "") or "",
            "expiresAt": timestamp(expires) if expires else None,
            "owner": owner.email if owner is not None else None,
        },
        **extra,
    }
