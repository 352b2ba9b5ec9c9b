"""OAuth clients and grants in the portal, and the OAuth server's endpoints.

`provider_urlpatterns` is what portal/urls.py mounts at the root under DOT's
`oauth2_provider` namespace (DOT reverses those names): Keyward's versions of
/o/authorize/, /o/token/, /o/revoke_token/, /o/introspect/ and the RFC 8414
document at the origin's /.well-known/. DOT's device flow, OIDC and management
pages are not mounted.
"""

from django.urls import path, re_path

from . import endpoints, views

CLIENTS = "orgs/<str:org_id>/developer/oauth-clients/"
GRANTS = "orgs/<str:org_id>/developer/authorized-apps/"

provider_urlpatterns = [
    # RFC 8414 §3: at the origin's root, so the issuer is the origin (not /o).
    path(
        ".well-known/oauth-authorization-server",
        endpoints.ServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path("o/authorize/", endpoints.ConsentView.as_view(), name="authorize"),
    path("o/token/", endpoints.TokenView.as_view(), name="token"),
    path("o/revoke_token/", endpoints.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", endpoints.introspect, name="introspect"),
]

urlpatterns = [
    path("o/authorize/", endpoints.ConsentView.as_view(), name="oauth_authorize"),
    path("o/introspect/", endpoints.introspect, name="oauth_introspect"),
    re_path(r"^o/(?:applications|authorized_tokens)/", endpoints.not_found),
    *views.client_pages.urls(CLIENTS),
    path(GRANTS, views.grant_list, name="oauth_grants"),
    path(GRANTS + "<int:token_pk>/revoke/", views.grant_revoke, name="oauth_grant_revoke"),
]
