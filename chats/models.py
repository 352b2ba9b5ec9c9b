"""The platform resources that credentials protect; every row belongs to one organization."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization
from tokens.models import CredentialKind


class Contact(models.Model):
    """An end user who chats with the organization (Smooch's appUser).

    `user` ties a guest account to the contact it chats as: a guest's reach and an
    appUser credential's reach are the same rule (one contact's own conversations).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"], name="contact_external_id_per_org"
            )
        ]

    def __str__(self):
        return self.name or self.external_id


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="conversations"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="conversation_org_time")
        ]

    def __str__(self):
        return self.subject or f"Conversation {self.pk}"


class ConversationAttribute(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="attributes"
    )
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "key"], name="attribute_key_per_chat")
        ]

    def __str__(self):
        return self.key


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Message {self.pk}"


class KnowledgeItem(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="knowledge_items"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Form(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="forms")
    name = models.CharField(max_length=150)
    fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class Service(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


EVENT_CATEGORIES = {
    "conversation": "Conversations opened, updated and closed",
    "message": "Messages posted in conversations",
    "contact": "Contacts created and updated",
    "form": "Forms submitted",
    "credentials": "Credentials created, rotated, revoked, expiring, expired or leaked; members' access changed",
}


class Webhook(models.Model):
    """A URL the platform calls; its signing secret is shown once and kept only sealed (encrypted)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    event_categories = models.JSONField(default=list)
    sealed_secret = models.TextField(editable=False)
    secret_last4 = models.CharField(max_length=4, editable=False)
    # A paused webhook is sent no new events; what is already queued still goes out.
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    credential_kind = CredentialKind.WEBHOOK  # for the audit log

    def __str__(self):
        return self.url

    def __repr__(self):
        return f"<Webhook {self.pk} …{self.secret_last4}>"

    @property
    def name(self):
        """How the audit log names it."""
        return self.url

    @property
    def last4(self):
        return self.secret_last4


class WebhookEvent(models.Model):
    """One event as its webhooks receive it: the JSON body is fixed when it happens, so every
    attempt and redelivery sends the same bytes (only the signature's timestamp changes)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_events"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=40)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.public_id}"


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """One event for one webhook: attempts until a 2xx, a refusal, or the retry window closes."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField("response time (ms)", null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    # When the next attempt may start; while an attempt runs it is the lease's end (see chats.deliveries).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"Delivery {self.pk} of {self.event_id} to webhook {self.webhook_id}"
