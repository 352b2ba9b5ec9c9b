"""tokens' pages and endpoints outside /api/v1/: the root pages here, and each kind's.

Included by portal/urls.py before django-oauth-toolkit's own /o/ urls, so the OAuth
kind's versions of /o/authorize/ and /o/introspect/ win.
"""

from django.urls import include, path

from . import kinds, views
from .login import admin_views as login_admin_views
from .usage import views as usage_views

urlpatterns = [
    path("orgs/<str:org_id>/developer/", views.developer_home, name="developer_home"),
    path("orgs/<str:org_id>/admin/audit/", views.audit_log, name="audit_log"),
    path(
        "orgs/<str:org_id>/admin/audit/export.csv",
        views.audit_log_export,
        name="audit_log_export",
    ),
    path(
        "orgs/<str:org_id>/admin/credentials/",
        views.credential_inventory,
        name="credential_inventory",
    ),
    path(
        "orgs/<str:org_id>/admin/usage/", usage_views.organization_usage, name="organization_usage"
    ),
    path(
        "orgs/<str:org_id>/admin/credentials/sessions/<uuid:session_id>/end",
        login_admin_views.member_session_end,
        name="member_session_end",
    ),
    *(path("", include(f"{package}.urls")) for package in kinds.TABLE),
    path("", include("tokens.review.urls")),
    path("", include("tokens.limits.urls")),
]
