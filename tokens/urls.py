"""tokens' portal pages: the root ones here, and each kind's."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("orgs/<str:org_id>/developer/", views.developer_home, name="developer_home"),
    path("orgs/<str:org_id>/admin/audit/", views.audit_log, name="audit_log"),
    path("", include("tokens.personal.urls")),
    path("", include("tokens.api_keys.urls")),
]
