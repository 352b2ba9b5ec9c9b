"""tokens' routes under /api/v1/: every kind's viewset and the auth/ paths."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tokens import leaks
from tokens.api_keys import leaks as api_key_leaks
from tokens.api_keys.api import ApiKeyViewSet
from tokens.limits.api import OrganizationLimitsView
from tokens.login import leaks as login_leaks
from tokens.oauth import api as oauth_api
from tokens.oauth import leaks as oauth_leaks
from tokens.personal import leaks as personal_leaks
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
    path("limits", OrganizationLimitsView.as_view(), name="organization_limits"),
    # GitHub secret scanning reports: each kind revokes its own secrets.
    path(
        "secret-scanning/reports",
        leaks.ReportView.as_view(
            revokers=(
                personal_leaks.revoke_leaked,
                api_key_leaks.revoke_leaked,
                login_leaks.revoke_leaked,
                oauth_leaks.revoke_leaked,
            )
        ),
        name="secret_scanning_reports",
    ),
    *router.urls,
]
