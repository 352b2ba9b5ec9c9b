"""OAuth clients and grants in the portal, and Keyward's own versions of three of DOT's /o/ endpoints.

portal/urls.py includes these before DOT's urls, so they win: the consent page,
introspection restricted to trusted clients by POST, and DOT's own management
pages turned off.
"""

from django.urls import path, re_path

from . import endpoints, views

CLIENTS = "orgs/<str:org_id>/developer/oauth-clients/"
GRANTS = "orgs/<str:org_id>/developer/authorized-apps/"

urlpatterns = [
    path("o/authorize/", endpoints.ConsentView.as_view(), name="oauth_authorize"),
    path("o/introspect/", endpoints.introspect, name="oauth_introspect"),
    re_path(r"^o/(?:applications|authorized_tokens)/", endpoints.not_found),
    path(CLIENTS, views.client_list, name="oauth_clients"),
    path(CLIENTS + "new/", views.client_create, name="oauth_client_create"),
    path(CLIENTS + "<int:client_pk>/", views.client_detail, name="oauth_client_detail"),
    path(CLIENTS + "<int:client_pk>/secret/", views.client_secret, name="oauth_client_secret"),
    path(CLIENTS + "<int:client_pk>/edit/", views.client_update, name="oauth_client_update"),
    path(CLIENTS + "<int:client_pk>/regenerate-secret/confirm/", views.client_regenerate_confirm,
         name="oauth_client_regenerate_confirm"),
    path(CLIENTS + "<int:client_pk>/regenerate-secret/", views.client_regenerate_secret,
         name="oauth_client_regenerate_secret"),
    path(CLIENTS + "<int:client_pk>/delete/", views.client_delete, name="oauth_client_delete"),
    path(GRANTS, views.grant_list, name="oauth_grants"),
    path(GRANTS + "<int:token_pk>/revoke/", views.grant_revoke, name="oauth_grant_revoke"),
]
