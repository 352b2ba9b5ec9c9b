"""Everything under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from chats import api as chats_api
from tokens import api as tokens_api

router = SimpleRouter(trailing_slash=False)
router.register("tokens", tokens_api.PersonalTokenViewSet, basename="token")

urlpatterns = [
    path("me", chats_api.MeView.as_view(), name="api_me"),
    path("auth/", include("tokens.auth_urls")),
    *router.urls,
]
