"""Portal pages for login sessions and the password, and the public JWK set (mounted at the site root)."""

from django.urls import path

from . import views

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("orgs/<str:org_id>/sessions/", views.sessions, name="sessions"),
    path("orgs/<str:org_id>/sessions/end-all/", views.sessions_end_all, name="sessions_end_all"),
    path(
        "orgs/<str:org_id>/sessions/<uuid:session_id>/end/", views.session_end, name="session_end"
    ),
    path("orgs/<str:org_id>/account/password/", views.password_change, name="password_change"),
]
