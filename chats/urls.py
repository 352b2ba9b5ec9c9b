from django.urls import path

from . import views, webhook_views

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
]

WEBHOOKS = "orgs/<str:org_id>/admin/webhooks/"
WEBHOOK = WEBHOOKS + "<int:webhook_id>/"

urlpatterns += [
    path(WEBHOOKS, webhook_views.webhooks, name="webhooks"),
    path(WEBHOOKS + "create", webhook_views.webhook_create, name="webhook_create"),
    path(WEBHOOK, webhook_views.webhook_detail, name="webhook_detail"),
    path(WEBHOOK + "secret", webhook_views.webhook_secret, name="webhook_secret"),
    path(WEBHOOK + "update", webhook_views.webhook_update, name="webhook_update"),
    path(WEBHOOK + "pause", webhook_views.webhook_pause, name="webhook_pause"),
    path(WEBHOOK + "resume", webhook_views.webhook_resume, name="webhook_resume"),
    path(WEBHOOK + "test", webhook_views.webhook_test, name="webhook_test"),
    path(WEBHOOK + "rotate", webhook_views.webhook_rotate, name="webhook_rotate"),
    path(WEBHOOK + "delete", webhook_views.webhook_delete, name="webhook_delete"),
    path(WEBHOOK + "deliveries/", webhook_views.webhook_deliveries, name="webhook_deliveries"),
    path(
        WEBHOOK + "deliveries/<int:delivery_id>/redeliver/",
        webhook_views.webhook_redeliver,
        name="webhook_redeliver",
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
