"""Lifecycle events for webhooks: `emit` records one and queues its deliveries.

News reaches here without tokens or accounts importing chats (lib.news): ChatsConfig.ready
connects `emit` to `tokens.lifecycle`, which carries every credential event in one shape, and
`on_account_change` to `accounts.services.changes`, for member.access_changed.
"""

import datetime
import json
import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from lib.tasks import enqueue_on_commit
from tokens import lifecycle
from tokens.models import ReviewItem

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
    event, rows = _record(organization, event_type, lifecycle.payload_of(payload), webhooks)
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


def on_account_change(account_change):
    """Announce member.access_changed: removed, lost developer access, or a new role."""
    change = account_change.member
    if change is None:
        return
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
