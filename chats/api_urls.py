"""The platform's routes under /api/v1/ (included by portal.api_urls)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import conversations, organizations, resources, users, webhooks

router = SimpleRouter(trailing_slash=False)
router.register("organizations", organizations.OrganizationViewSet, basename="organization")
router.register(
    "organization-groups", organizations.OrganizationGroupViewSet, basename="organization-group"
)
router.register("users", users.UserViewSet, basename="user")
router.register("conversations", conversations.ConversationViewSet, basename="conversation")
router.register("contacts", resources.ContactViewSet, basename="contact")
router.register("knowledge-items", resources.KnowledgeItemViewSet, basename="knowledge-item")
router.register("forms", resources.FormViewSet, basename="form")
router.register("services", resources.ServiceViewSet, basename="service")
router.register("webhooks", webhooks.WebhookViewSet, basename="webhook")

messages = conversations.MessageViewSet.as_view({"get": "list", "post": "create"})
message = conversations.MessageViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("me", users.MeView.as_view(), name="api_me"),
    path("users/self", users.UserSelfView.as_view(), name="user-self"),
    path(
        "webhook-event-categories",
        webhooks.WebhookEventCategoriesView.as_view(),
        name="webhook-event-categories",
    ),
    path("conversations/<int:conversation_pk>/messages", messages, name="message-list"),
    path("conversations/<int:conversation_pk>/messages/<int:pk>", message, name="message-detail"),
    *router.urls,
]
