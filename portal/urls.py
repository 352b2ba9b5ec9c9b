from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from tokens import docs
from tokens.cache import metrics
from tokens.oauth.urls import provider_urlpatterns

from . import views

handler400 = "portal.errors.handler400"
handler403 = "portal.errors.handler403"
handler404 = "portal.errors.handler404"
handler500 = "portal.errors.handler500"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", include("portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="schema"), name="api_docs"),
    path("api/docs/scopes/", docs.scopes_page, name="api_scopes"),
    path("", include("tokens.urls")),
    path("", include((provider_urlpatterns, "oauth2_provider"))),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("chats.urls")),
]
