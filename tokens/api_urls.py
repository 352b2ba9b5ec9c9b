"""tokens' routes under /api/v1/: every kind's viewset and the auth/ paths."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tokens.api_keys.api import ApiKeyViewSet
from tokens.oauth import api as oauth_api
from tokens.personal.api import PersonalTokenViewSet
from tokens.review.api import ReviewItemViewSet

router = SimpleRouter(trailing_slash=False)
router.register("tokens", PersonalTokenViewSet, basename="token")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("oauth-clients", oauth_api.OAuthClientViewSet, basename="oauth-client")
router.register("oauth-tokens", oauth_api.OAuthTokenViewSet, basename="oauth-token")
router.register("credential-reviews", ReviewItemViewSet, basename="credential-review")

urlpatterns = [
    path("auth/", include("tokens.login.api_urls")),
    *router.urls,
]
