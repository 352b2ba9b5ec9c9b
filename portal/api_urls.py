"""Everything under /api/v1/."""

from django.urls import path

from chats import api as chats_api

urlpatterns = [
    path("me", chats_api.MeView.as_view(), name="api_me"),
]
