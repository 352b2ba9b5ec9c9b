"""/api/v1/auth/…: login tokens and sessions (no trailing slashes, like the rest of the API)."""

from django.urls import path

from . import auth_api

urlpatterns = [
    path("token", auth_api.TokenView.as_view(), name="auth_token"),
    path("logout", auth_api.LogoutView.as_view(), name="auth_logout"),
    path("revoke", auth_api.RevokeView.as_view(), name="auth_revoke"),
    path("revoke-all", auth_api.RevokeAllView.as_view(), name="auth_revoke_all"),
    path("sessions", auth_api.SessionListView.as_view(), name="auth_sessions"),
    path("sessions/<uuid:session_id>", auth_api.SessionDetailView.as_view(), name="auth_session"),
]
