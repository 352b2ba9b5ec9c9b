from django.urls import path

from . import views

urlpatterns = [
    path("invitations/", views.invitations, name="invitations"),
    path(
        "invitations/<int:invitation_id>/accept/", views.invitation_accept, name="invitation_accept"
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
    path("orgs/<str:org_id>/admin/webhooks/", views.webhooks, name="webhooks"),
    path(
        "orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/deliveries/",
        views.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]

MEMBERS = "orgs/<str:org_id>/admin/members/"

urlpatterns += [
    path(MEMBERS + "invite", views.member_invite, name="member_invite"),
    path(MEMBERS + "<int:membership_id>/role", views.member_role, name="member_role"),
    path(
        MEMBERS + "<int:membership_id>/developer-access",
        views.member_developer_access,
        name="member_developer_access",
    ),
    path(MEMBERS + "<int:membership_id>/remove", views.member_remove, name="member_remove"),
]
