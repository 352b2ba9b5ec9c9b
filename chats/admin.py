from django.contrib import admin

from .models import (
    Contact,
    Conversation,
    ConversationAttribute,
    Form,
    KnowledgeItem,
    Message,
    Service,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)


class AttributeInline(admin.TabularInline):
    model = ConversationAttribute
    extra = 0


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "contact", "subject", "status", "created_at"]
    list_filter = ["status", "organization"]
    list_select_related = ["organization", "contact"]
    inlines = [AttributeInline]
    raw_id_fields = ["contact"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "author_user", "author_contact", "created_at"]
    list_select_related = ["conversation", "author_user", "author_contact"]
    raw_id_fields = ["conversation", "author_user", "author_contact"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "organization", "user"]
    list_select_related = ["organization", "user"]
    search_fields = ["external_id", "name", "email"]
    raw_id_fields = ["user"]


@admin.register(KnowledgeItem, Form, Service)
class OrgResourceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "created_at"]
    list_select_related = ["organization"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """The sealed signing secret is never shown or editable here."""

    list_display = ["url", "organization", "secret_last4", "created_at"]
    list_select_related = ["organization"]
    fields = ["organization", "url", "event_categories", "secret_last4", "created_by", "created_at"]
    readonly_fields = ["secret_last4", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False  # a webhook's secret is made and shown once by the API


@admin.register(ConversationAttribute)
class ConversationAttributeAdmin(admin.ModelAdmin):
    list_display = ["conversation", "key", "value"]
    list_select_related = ["conversation"]
    raw_id_fields = ["conversation"]


class ReadOnly(admin.ModelAdmin):
    """Written by chats.events and chats.deliveries only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly):
    list_display = ["type", "public_id", "organization", "created_at"]
    list_filter = ["type"]
    list_select_related = ["organization"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = [
        "id",
        "event",
        "webhook",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
    ]
    list_filter = ["status"]
    list_select_related = ["event", "webhook"]
    raw_id_fields = ["event", "webhook"]
