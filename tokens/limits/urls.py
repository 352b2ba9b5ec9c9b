"""The editor's own routes, beside each kind's page (the parameter names are the kinds' own)."""

from django.urls import path

from ..models import CredentialKind
from . import views

DEVELOPER = "orgs/<str:org_id>/developer/"

urlpatterns = [
    path(
        DEVELOPER + "tokens/<int:token_id>/limits/",
        views.limits_edit,
        {"kind": CredentialKind.PERSONAL},
        name="token_limits",
    ),
    path(
        DEVELOPER + "api-keys/<int:key_id>/limits/",
        views.limits_edit,
        {"kind": CredentialKind.API_KEY},
        name="api_key_limits",
    ),
    path(
        DEVELOPER + "oauth-clients/<int:client_pk>/limits/",
        views.limits_edit,
        {"kind": CredentialKind.OAUTH_CLIENT},
        name="oauth_client_limits",
    ),
    path(
        "orgs/<str:org_id>/admin/limits/",
        views.organization_limits_edit,
        name="organization_limits_edit",
    ),
]
