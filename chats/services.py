"""Platform writes that touch several rows or carry a secret (accounts' writes: accounts.services)."""

from accounts.errors import Refused
from accounts.models import Membership, Role
from tokens import sealing, secret_format

from .models import Message, Webhook


def organization_bot(organization):
    """The organization's bot: its first service account of role bot (Chat Bots › impersonate.bot)."""
    membership = (
        Membership.objects.filter(organization=organization, user__is_service_account=True, role=Role.BOT)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if membership is None:
        raise Refused("no_bot", "This organization has no bot service account to post as.", "as_bot")
    return membership.user


def post_message(*, conversation, text, user=None, contact=None, as_bot=False):
    author = organization_bot(conversation.organization) if as_bot else user
    return Message.objects.create(
        conversation=conversation, text=text, author_user=None if contact else author, author_contact=contact
    )


class NewWebhook:
    def __init__(self, webhook, secret):
        self.webhook, self.secret = webhook, secret


def create_webhook(*, organization, url, event_categories, by):
    secret = secret_format.generate(secret_format.WEBHOOK_SECRET)
    webhook = Webhook.objects.create(
        organization=organization, url=url, event_categories=event_categories, created_by=by,
        sealed_secret=sealing.seal(secret), secret_last4=secret[-4:],
    )
    return NewWebhook(webhook, secret)


def regenerate_webhook_secret(*, webhook):
    secret = secret_format.generate(secret_format.WEBHOOK_SECRET)
    webhook.sealed_secret, webhook.secret_last4 = sealing.seal(secret), secret[-4:]
    webhook.save(update_fields=["sealed_secret", "secret_last4"])
    return NewWebhook(webhook, secret)
