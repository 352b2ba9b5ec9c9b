"""tokens' routes under /api/v1/: every kind's viewsets (the `ROUTES` of each kind's `api`, in
the order of the table of kinds), the auth/ paths and the root ones."""

from importlib import import_module

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tokens import kinds, leaks
from tokens.limits.api import OrganizationLimitsView
from tokens.review.api import ReviewItemViewSet
from tokens.usage.api import OrganizationUsageView

router = SimpleRouter(trailing_slash=False)
for package in kinds.TABLE:
    for prefix, viewset, basename in getattr(import_module(f"{package}.api"), "ROUTES", ()):
        router.register(prefix, viewset, basename=basename)
router.register("credential-reviews", ReviewItemViewSet, basename="credential-review")

urlpatterns = [
    path("auth/", include("tokens.login.api_urls")),
    path("usage", OrganizationUsageView.as_view(), name="organization_usage"),
    path("limits", OrganizationLimitsView.as_view(), name="organization_limits"),
    # GitHub secret scanning reports: each kind revokes its own secrets (tokens.kinds).
    path(
        "secret-scanning/reports",
        leaks.ReportView.as_view(),
        name="secret_scanning_reports",
    ),
    *router.urls,
]
