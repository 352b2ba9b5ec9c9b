"""Lifecycle events of credentials (`credential.expiring`, `.expired`, `.leaked`…) for whoever
listens: chats turns them into webhook deliveries.

tokens may not import chats (imports run accounts <- tokens <- chats), so the dependency is
inverted: chats connects its emitter here once, in its AppConfig.ready:

    lifecycle.connect(events.emit)     # chats.events.emit(organization, event_type, payload)

Nobody connected (tests of tokens alone, or before chats' webhooks exist) means nothing is sent.
Call `emit` inside the transaction that makes the event true, so the two commit together.
"""

import datetime as dt

_emitters = []


def timestamp(moment):
    """The one way an event writes a moment: RFC 3339 in UTC with `Z`, to the second
    (`2026-11-27T10:00:00Z`), whatever zone or precision the value had."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(emitter):
    """Add `emitter(organization, event_type, payload)`; connecting the same one twice is a no-op."""
    if emitter not in _emitters:
        _emitters.append(emitter)


def disconnect(emitter):
    if emitter in _emitters:
        _emitters.remove(emitter)


def emit(organization, event_type, payload):
    """Hand one event to every emitter; `payload` is JSON-ready and carries no secret."""
    for emitter in list(_emitters):
        emitter(organization, event_type, payload)


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
