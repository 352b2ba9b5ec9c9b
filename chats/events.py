"""Lifecycle events for webhooks: `emit` records one and queues its deliveries.

Credential writes reach here without tokens importing chats: every one is audited
through `tokens.audit.record`, and ChatsConfig.ready registers `on_audit_event` as a
listener there; member changes come the same way from `accounts.services`.
"""

import datetime
import json
import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from tokens import lifecycle
from tokens.models import AuditEvent, CredentialKind, ReviewItem
from tokens.notifications import owner_of, scopes_of
from tokens.tasks import enqueue_on_commit

from . import deliveries
from .models import Webhook, WebhookDelivery, WebhookEvent

# Event type -> the category a webhook subscribes to.
EVENT_TYPES = {
    "credential.created": "credentials",
    "credential.rotated": "credentials",
    "credential.revoked": "credentials",
    "credential.expiring": "credentials",
    "credential.expired": "credentials",
    "credential.leaked": "credentials",
    "credential.rotation_idle": "credentials",
    "credential.limits_changed": "credentials",
    "credential.credits_low": "credentials",
    "credential.rate_limited": "credentials",
    "member.access_changed": "credentials",
}

# Credentials a program holds. Login sessions and OAuth grants come and go with every sign-in
# and refresh; announcing each would drown the rest.
ANNOUNCED_KINDS = {CredentialKind.PERSONAL, CredentialKind.API_KEY, CredentialKind.OAUTH_CLIENT}
ANNOUNCED_ACTIONS = {
    AuditEvent.Action.ISSUED: "credential.created",
    AuditEvent.Action.ROTATED: "credential.rotated",
    AuditEvent.Action.REVOKED: "credential.revoked",
}


def subscribers(organization_id, event_type):
    """The organization's webhooks subscribed to the event's category."""
    category = EVENT_TYPES[event_type]
    # Filtered here rather than in SQL: JSON containment differs between SQLite and PostgreSQL,
    # and an organization has a handful of webhooks.
    return [
        w
        for w in Webhook.objects.filter(organization_id=organization_id, active=True)
        if category in w.event_categories
    ]


def _json_value(value):
    """Moments in a payload come out like createdAt; anything else as its string."""
    if isinstance(value, datetime.datetime):
        return lifecycle.timestamp(value)
    return str(value)


def emit(organization, event_type, payload):
    """Record `event_type` with `payload` (camelCase JSON values) for the organization (or its id)
    and queue a delivery to each of its webhooks subscribed to the event's category. Deliveries
    start when the surrounding transaction commits; nothing is recorded when nobody listens."""
    organization_id = organization.pk if isinstance(organization, Organization) else organization
    webhooks = subscribers(organization_id, event_type)
    if not webhooks:
        return None
    if not isinstance(organization, Organization):
        organization = Organization.objects.get(pk=organization_id)
    event, rows = _record(organization, event_type, payload, webhooks)
    for row in rows:
        enqueue_on_commit(deliveries.deliver, row.pk)
    return event


def emit_test(webhook, *, by):
    """A `webhook.test` event for `webhook` alone; returns its delivery (queued on commit)."""
    payload = {
        "webhookId": webhook.pk,
        "message": "A test event sent from the Keyward portal.",
        "actor": {"id": by.pk, "email": by.email},
    }
    _event, (row,) = _record(webhook.organization, "webhook.test", payload, [webhook])
    enqueue_on_commit(deliveries.deliver, row.pk)
    return row


def _record(organization, event_type, payload, webhooks):
    """The event row (its body fixed now) and one pending delivery per webhook."""
    now = timezone.now()
    event_id = uuid.uuid4()
    body = json.dumps(
        {
            "id": str(event_id),
            "type": event_type,
            "createdAt": lifecycle.timestamp(now),
            "organizationId": organization.public_id,
            "data": payload,
        },
        separators=(",", ":"),
        sort_keys=False,
        default=_json_value,
    )
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            organization=organization,
            public_id=event_id,
            type=event_type,
            body=body,
            created_at=now,
        )
        rows = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                event=event,
                webhook=webhook,
                next_attempt_at=now,
                retry_until=now + deliveries.retry_window(),
                created_at=now,
            )
            for webhook in webhooks
        )
    return event, rows


def on_audit_event(audit_event, credential=None):
    """Announce credential.created / rotated / revoked for the credentials programs hold, in the
    shape tokens.lifecycle gives every credential event (never a secret, a digest or a sealed copy)."""
    event_type = ANNOUNCED_ACTIONS.get(audit_event.action)
    if (
        event_type is None
        or audit_event.credential_kind not in ANNOUNCED_KINDS
        or credential is None
    ):
        return
    if not subscribers(audit_event.organization_id, event_type):
        return  # spare the owner lookups below on the common path
    actor = audit_event.actor
    payload = lifecycle.credential_payload(
        credential,
        kind=audit_event.credential_kind,
        owner=owner_of(credential),
        actor={"id": actor.pk, "email": actor.email} if actor is not None else None,
        detail=audit_event.detail,
    )
    payload["credential"]["scopes"] = scopes_of(credential)
    emit(audit_event.organization_id, event_type, payload)


def on_member_change(change):
    """Announce member.access_changed: removed, lost developer access, or a new role."""
    open_items = (
        ReviewItem.objects.open()
        .filter(organization=change.organization, member=change.user)
        .count()
    )
    emit(
        change.organization,
        "member.access_changed",
        {
            "member": {"id": change.user.pk, "email": change.user.email},
            "change": change.summary,
            "before": {
                "role": change.before.role,
                "developerAccess": change.before.developer_access,
            },
            "after": None
            if change.after is None
            else {"role": change.after.role, "developerAccess": change.after.developer_access},
            "credentialsToReview": open_items,
            "actor": {"id": change.by.pk, "email": change.by.email}
            if change.by is not None
            else None,
        },
    )
