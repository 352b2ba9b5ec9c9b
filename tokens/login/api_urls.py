"""/api/v1/auth/…: login tokens and sessions (no trailing slashes, like the rest of the API)."""

from django.urls import path

from . import api

urlpatterns = [
    path("token", api.TokenView.as_view(), name="auth_token"),
    path("logout", api.LogoutView.as_view(), name="auth_logout"),
    path("revoke", api.RevokeView.as_view(), name="auth_revoke"),
    path("revoke-all", api.RevokeAllView.as_view(), name="auth_revoke_all"),
    path("sessions", api.SessionListView.as_view(), name="auth_sessions"),
    path("sessions/<uuid:session_id>", api.SessionDetailView.as_view(), name="auth_session"),
]
