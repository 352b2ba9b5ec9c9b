"""Portal pages for login sessions and the password (mounted at the site root)."""

from django.urls import path

from . import session_views

urlpatterns = [
    path("orgs/<str:org_id>/sessions/", session_views.sessions, name="sessions"),
    path("orgs/<str:org_id>/sessions/end-all/", session_views.sessions_end_all,
         name="sessions_end_all"),
    path("orgs/<str:org_id>/sessions/<uuid:session_id>/end/", session_views.session_end,
         name="session_end"),
    path("orgs/<str:org_id>/account/password/", session_views.password_change, name="password_change"),
]
