"""Everything under /api/v1/: each app's routes."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tokens import api as tokens_api
from tokens.oauth import api as oauth_api

router = SimpleRouter(trailing_slash=False)
router.register("tokens", tokens_api.PersonalTokenViewSet, basename="token")
router.register("api-keys", tokens_api.ApiKeyViewSet, basename="api-key")
router.register("oauth-clients", oauth_api.OAuthClientViewSet, basename="oauth-client")
router.register("oauth-tokens", oauth_api.OAuthTokenViewSet, basename="oauth-token")

urlpatterns = [
    path("auth/", include("tokens.auth_urls")),
    *router.urls,
    path("", include("chats.api_urls")),
]
