from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("orgs/switch/", views.switch_org, name="switch_org"),
    path("orgs/<str:org_id>/", views.org_home, name="org_home"),
    path("orgs/<str:org_id>/admin/members/", views.members, name="admin_members"),
    path("invitations/", views.invitations, name="invitations"),
    path(
        "invitations/<int:invitation_id>/accept/", views.invitation_accept, name="invitation_accept"
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
]

MEMBERS = "orgs/<str:org_id>/admin/members/"

urlpatterns += [
    path(MEMBERS + "invite", views.member_invite, name="member_invite"),
    path(
        MEMBERS + "invitations/<int:invitation_id>/withdraw",
        views.member_invitation_withdraw,
        name="member_invitation_withdraw",
    ),
    path(MEMBERS + "<int:membership_id>/role", views.member_role, name="member_role"),
    path(
        MEMBERS + "<int:membership_id>/developer-access",
        views.member_developer_access,
        name="member_developer_access",
    ),
    path(MEMBERS + "<int:membership_id>/remove", views.member_remove, name="member_remove"),
]
