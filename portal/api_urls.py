"""Everything under /api/v1/: each app's own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("tokens.api_urls")),
    path("", include("chats.api_urls")),
]
