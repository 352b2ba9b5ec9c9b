"""Writes of the platform API that touch several rows or carry a secret."""

from django.db import transaction

from accounts.errors import Refused
from accounts.models import Membership, Organization, OrganizationGroup, Role, User
from tokens import sealing, secret_format

from .models import Message, Webhook


class PlatformError(Refused):
    """A platform rule refuses the request."""


@transaction.atomic
def create_organization(*, name, slug, by, group=None):
    if Organization.objects.filter(slug=slug).exists():
        raise PlatformError("slug_taken", "An organization with this slug exists already.", "slug")
    organization = Organization.objects.create(name=name, slug=slug, group=group)
    Membership.objects.create(user=by, organization=organization, role=Role.ADMIN, developer_access=True)
    return organization


@transaction.atomic
def create_organization_group(*, name, slug, by):
    if OrganizationGroup.objects.filter(slug=slug).exists():
        raise PlatformError("slug_taken", "An organization group with this slug exists already.", "slug")
    group = OrganizationGroup.objects.create(name=name, slug=slug)
    group.owners.add(by)
    return group


@transaction.atomic
def add_user(*, organization, email, name, role, by_role):
    """Add a member (creating the account when new); nobody grants a role above their own."""
    if Role.rank(role) > Role.rank(by_role):
        raise PlatformError("role_not_allowed", "You cannot give a role above your own.", "role")
    user = User.objects.filter(email__iexact=email).first() or User.objects.create_user(email, None, name=name)
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created:
        raise PlatformError("already_member", "This user is already a member of the organization.", "email")
    return membership


def organization_bot(organization):
    """The organization's bot: its first service account of role bot (Chat Bots › impersonate.bot)."""
    membership = (
        Membership.objects.filter(organization=organization, user__is_service_account=True, role=Role.BOT)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if membership is None:
        raise PlatformError("no_bot", "This organization has no bot service account to post as.", "as_bot")
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
