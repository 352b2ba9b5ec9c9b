"""tokens' routes under /api/v1/: every kind's viewset and the auth/ paths."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tokens import leaks
from tokens.api_keys.api import ApiKeyViewSet
from tokens.oauth import api as oauth_api
from tokens.personal.api import PersonalTokenViewSet
from tokens.review.api import ReviewItemViewSet
from tokens.usage.api import OrganizationUsageView

router = SimpleRouter(trailing_slash=False)
router.register("tokens", PersonalTokenViewSet, basename="token")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("oauth-clients", oauth_api.OAuthClientViewSet, basename="oauth-client")
router.register("oauth-tokens", oauth_api.OAuthTokenViewSet, basename="oauth-token")
router.register("credential-reviews", ReviewItemViewSet, basename="credential-review")

urlpatterns = [
    path("auth/", include("tokens.login.api_urls")),
    path("usage", OrganizationUsageView.as_view(), name="organization_usage"),
    # GitHub secret scanning reports: each kind revokes its own secrets (tokens.kinds).
    path(
        "secret-scanning/reports",
        leaks.ReportView.as_view(),
        name="secret_scanning_reports",
    ),
    *router.urls,
]
