"""One trivial endpoint, mounted once per authentication stack, so only authentication differs."""

from django.urls import path
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from tokens.bearer.authentication import AccessTokenAuthentication
from tokens.permissions import HasRequiredScopes
from tokens.usage.counter import CHECKED, MARK


class Ok(APIView):
    """`{"ok": true}`, rendered by plain JSONRenderer for every row (no camelCase pass)."""

    renderer_classes = [JSONRenderer]
    required_scopes = ["read.me"]

    def get(self, request):
        return Response({"ok": True})


class OneQuery(Ok):
    """The same answer after one indexed query, as every real endpoint makes (`/api/v1/me`
    reads the caller): the row that shows whether authentication adds a round trip of its own
    (a health check) to the view's query."""

    def get(self, request):
        User.objects.filter(email=QUERY_EMAIL).values_list("pk", flat=True).first()
        return Response({"ok": True})


QUERY_EMAIL = "bench@example.com"  # the bench's own user (bench.auth.seed_cast)
QUERY_SUFFIX = ", one query"


class ColdAccessTokenAuthentication(AccessTokenAuthentication):
    """Keyward on a cache miss: the cold row presents its own token, which this class never
    stores, so every request asks the database (the lookup sent as the request arrives)."""

    use_cache = False


class UncountedAccessTokenAuthentication(AccessTokenAuthentication):
    """Keyward warm leaving no mark for usage: the request is not counted."""

    def admit(self, request, entry):
        admitted = super().admit(request, entry)
        request._request.META.pop(MARK, None)
        return admitted


class ScopesWithoutUsage(HasRequiredScopes):
    """The scope check leaving no note for usage: the answer carries no scope headers."""

    def has_permission(self, request, view):
        allowed = super().has_permission(request, view)
        request._request.META.pop(CHECKED, None)
        return allowed


NO_AUTH = "no auth"
KEYWARD_WARM = "Keyward warm (cache)"
KEYWARD_COLD = "Keyward cold (cache miss)"
DRF = "DRF TokenAuthentication"
DOT = "DOT OAuth2Authentication"
# Verification and the scope check only, beside the warm row: the difference is what usage
# (counting the request, the two scope headers) adds (DESIGN.md gives each its own budget).
KEYWARD_WARM_UNCOUNTED = "Keyward warm, without usage"

# (row name, URL path, authentication classes, permission classes), in table order.
ROWS = (
    (NO_AUTH, "none/", [], [AllowAny]),
    (KEYWARD_WARM, "keyward/", [AccessTokenAuthentication], [HasRequiredScopes]),
    (KEYWARD_COLD, "keyward-cold/", [ColdAccessTokenAuthentication], [HasRequiredScopes]),
    (DRF, "drf/", [TokenAuthentication], [IsAuthenticated]),
    (DOT, "dot/", [OAuth2Authentication], [TokenHasScope]),
    (
        KEYWARD_WARM_UNCOUNTED,
        "keyward-uncounted/",
        [UncountedAccessTokenAuthentication],
        [ScopesWithoutUsage],
    ),
)

# The same rows with a view that runs one indexed query (`<path>query/`).
QUERY_ROWS = tuple(
    (name + QUERY_SUFFIX, url + "query/", auth, perms)
    for name, url, auth, perms in ROWS
    if name in (NO_AUTH, KEYWARD_WARM, KEYWARD_COLD, DRF, DOT)
)

urlpatterns = [
    path(
        url, Ok.as_view(authentication_classes=auth, permission_classes=perms), name=url.strip("/")
    )
    for _name, url, auth, perms in ROWS
] + [
    path(
        url,
        OneQuery.as_view(authentication_classes=auth, permission_classes=perms),
        name=url.strip("/").replace("/", "-"),
    )
    for _name, url, auth, perms in QUERY_ROWS
]
