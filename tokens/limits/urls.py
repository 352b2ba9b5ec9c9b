from django.urls import path

from . import views

urlpatterns = [
    path(
        "orgs/<str:org_id>/limits/<str:kind>/<int:pk>/",
        views.limits_edit,
        name="limits_edit",
    ),
    path(
        "orgs/<str:org_id>/admin/limits/",
        views.organization_limits_edit,
        name="organization_limits_edit",
    ),
]
