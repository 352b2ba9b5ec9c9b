"""/.well-known/…: the public keys that verify login tokens."""

from django.urls import path

from . import session_views

urlpatterns = [
    path("jwks.json", session_views.jwks, name="jwks"),
]
