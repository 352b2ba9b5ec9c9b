"""The editor's own routes, beside each kind's page (the parameter names are the kinds' own)."""

from django.urls import path

from ..models import CredentialKind
from . import views

DEVELOPER = "orgs/<str:org_id>/developer/"

# (the kind's page, its credential kind, its URL-name stem)
EDITED = [
    ("tokens/<int:token_id>/", CredentialKind.PERSONAL, "token"),
    ("api-keys/<int:key_id>/", CredentialKind.API_KEY, "api_key"),
    ("oauth-clients/<int:client_pk>/", CredentialKind.OAUTH_CLIENT, "oauth_client"),
]

urlpatterns = [
    *(
        path(DEVELOPER + page + "limits/", views.limits_edit, {"kind": kind}, name=f"{stem}_limits")
        for page, kind, stem in EDITED
    ),
    path(
        "orgs/<str:org_id>/admin/limits/",
        views.organization_limits_edit,
        name="organization_limits_edit",
    ),
]
