from django.urls import path

from . import webhook_views

WEBHOOKS = "orgs/<str:org_id>/admin/webhooks/"
WEBHOOK = WEBHOOKS + "<int:webhook_id>/"

urlpatterns = [
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
