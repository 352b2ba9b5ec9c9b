from django.urls import path

from . import views

urlpatterns = [
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitations/<int:invitation_id>/decline/", views.invitation_decline, name="invitation_decline"),
    path("orgs/<str:org_id>/admin/webhooks/", views.webhooks, name="webhooks"),
    path("orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/deliveries/", views.webhook_deliveries,
         name="webhook_deliveries"),
    path("orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/",
         views.webhook_redeliver, name="webhook_redeliver"),
]
