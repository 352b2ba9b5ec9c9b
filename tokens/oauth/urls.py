"""OAuth clients and grants in the portal, and Keyward's own versions of three of DOT's /o/ endpoints.

Included before DOT's urls, so these win: the consent page, introspection
restricted to trusted clients by POST, and DOT's own management pages turned off.
"""

from django.urls import path, re_path

from . import oauth_views

urlpatterns = [
    path("o/authorize/", oauth_views.ConsentView.as_view(), name="oauth_authorize"),
    path("o/introspect/", oauth_views.introspect, name="oauth_introspect"),
    re_path(r"^o/(?:applications|authorized_tokens)/", oauth_views.not_found),
    path("orgs/<str:org_id>/developer/oauth-clients/", oauth_views.client_list, name="oauth_clients"),
    path("orgs/<str:org_id>/developer/oauth-clients/new/", oauth_views.client_create, name="oauth_client_create"),
    path("orgs/<str:org_id>/developer/oauth-clients/<int:client_pk>/", oauth_views.client_detail,
         name="oauth_client_detail"),
    path("orgs/<str:org_id>/developer/oauth-clients/<int:client_pk>/edit/", oauth_views.client_update,
         name="oauth_client_update"),
    path("orgs/<str:org_id>/developer/oauth-clients/<int:client_pk>/regenerate-secret/",
         oauth_views.client_regenerate_secret, name="oauth_client_regenerate_secret"),
    path("orgs/<str:org_id>/developer/oauth-clients/<int:client_pk>/delete/", oauth_views.client_delete,
         name="oauth_client_delete"),
    path("orgs/<str:org_id>/developer/authorized-apps/", oauth_views.grant_list, name="oauth_grants"),
    path("orgs/<str:org_id>/developer/authorized-apps/<int:token_pk>/revoke/", oauth_views.grant_revoke,
         name="oauth_grant_revoke"),
]
