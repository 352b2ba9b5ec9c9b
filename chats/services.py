"""Platform writes that touch several rows or carry a secret (accounts' writes: accounts.services)."""

import logging

from django.db import transaction

from accounts.errors import Refused
from accounts.models import Membership, Role
from tokens import audit, sealing, secret_format
from tokens.models import AuditEvent
from tokens.one_time import Issued, OneTimeSecret

from .deliveries import check_url
from .models import Message, Webhook

log = logging.getLogger(__name__)


def organization_bot(organization):
    """The organization's bot: its first service account of role bot (Chat Bots › impersonate.bot)."""
    membership = (
        Membership.objects.filter(
            organization=organization, user__is_service_account=True, role=Role.BOT
        )
        .select_related("user")
        .order_by("id")
        .first()
    )
    if membership is None:
        raise Refused(
            "no_bot", "This organization has no bot service account to post as.", "as_bot"
        )
    return membership.user


def post_message(*, conversation, text, user=None, contact=None, as_bot=False):
    author = organization_bot(conversation.organization) if as_bot else user
    return Message.objects.create(
        conversation=conversation,
        text=text,
        author_user=None if contact else author,
        author_contact=contact,
    )


@transaction.atomic
def create_webhook(*, organization, url, event_categories, by, ip=None, active=True):
    """A webhook and its signing secret, shown once (the secret is kept only sealed)."""
    secret = secret_format.generate(secret_format.WEBHOOK_SECRET)
    webhook = Webhook.objects.create(
        organization=organization,
        url=check_url(url),
        event_categories=event_categories,
        active=active,
        created_by=by,
        sealed_secret=sealing.seal(secret),
        secret_last4=secret[-4:],
    )
    audit.record(action=AuditEvent.Action.ISSUED, credential=webhook, actor=by, ip=ip)
    return Issued(webhook, OneTimeSecret(secret))


@transaction.atomic
def regenerate_webhook_secret(*, webhook, by, ip=None):
    """A new signing secret at once: a receiver verifying with the old one fails from now on."""
    secret = secret_format.generate(secret_format.WEBHOOK_SECRET)
    webhook.sealed_secret, webhook.secret_last4 = sealing.seal(secret), secret[-4:]
    webhook.save(update_fields=["sealed_secret", "secret_last4"])
    audit.record(action=AuditEvent.Action.ROTATED, credential=webhook, actor=by, ip=ip)
    return Issued(webhook, OneTimeSecret(secret))


@transaction.atomic
def update_webhook(*, webhook, by, ip=None, **changes):
    """Change a webhook's `url` or `event_categories`, or pause (`active=False`) or resume it
    (its secret stays)."""
    if "url" in changes:
        check_url(changes["url"])
    changed = [field for field, value in changes.items() if getattr(webhook, field) != value]
    for field in changed:
        setattr(webhook, field, changes[field])
    if changed:
        webhook.save(update_fields=changed)
        words = [field for field in changed if field != "active"]
        detail = f"changed {', '.join(words)}" if words else ""
        if "active" in changed:
            state = "resumed" if webhook.active else "paused"
            detail = f"{detail}; {state}" if detail else state
        audit.record(
            action=AuditEvent.Action.RENAMED,
            credential=webhook,
            actor=by,
            ip=ip,
            detail=detail,
        )
    return webhook


def send_test_event(*, webhook, by, ip=None):
    """Queue a `webhook.test` event to this one webhook, paused or not, whatever it subscribes
    to: the receiver's signature check can be tried before real events flow."""
    from .events import emit_test  # events imports this module's neighbours, not the reverse

    delivery = emit_test(webhook, by=by)
    log.info("test event %s queued for webhook %s by user %s", delivery.event_id, webhook.pk, by.pk)
    return delivery


@transaction.atomic
def delete_webhook(*, webhook, by, ip=None):
    audit.record(action=AuditEvent.Action.REVOKED, credential=webhook, actor=by, ip=ip)
    webhook.delete()
