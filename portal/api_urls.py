"""Everything under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from chats import api as chats_api
from tokens import api as tokens_api
from tokens import oauth_api

router = SimpleRouter(trailing_slash=False)
router.register("tokens", tokens_api.PersonalTokenViewSet, basename="token")
router.register("api-keys", tokens_api.ApiKeyViewSet, basename="api-key")
router.register("oauth-clients", oauth_api.OAuthClientViewSet, basename="oauth-client")
router.register("oauth-tokens", oauth_api.OAuthTokenViewSet, basename="oauth-token")
router.register("organizations", chats_api.OrganizationViewSet, basename="organization")
router.register("organization-groups", chats_api.OrganizationGroupViewSet, basename="organization-group")
router.register("users", chats_api.UserViewSet, basename="user")
router.register("conversations", chats_api.ConversationViewSet, basename="conversation")
router.register("contacts", chats_api.ContactViewSet, basename="contact")
router.register("knowledge-items", chats_api.KnowledgeItemViewSet, basename="knowledge-item")
router.register("forms", chats_api.FormViewSet, basename="form")
router.register("services", chats_api.ServiceViewSet, basename="service")
router.register("webhooks", chats_api.WebhookViewSet, basename="webhook")

messages = chats_api.MessageViewSet.as_view({"get": "list", "post": "create"})
message = chats_api.MessageViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("me", chats_api.MeView.as_view(), name="api_me"),
    path("auth/", include("tokens.login.api_urls")),
    path("users/self", chats_api.UserSelfView.as_view(), name="user-self"),
    path("webhook-event-categories", chats_api.WebhookEventCategoriesView.as_view(), name="webhook-event-categories"),
    path("conversations/<int:conversation_pk>/messages", messages, name="message-list"),
    path("conversations/<int:conversation_pk>/messages/<int:pk>", message, name="message-detail"),
    *router.urls,
]
